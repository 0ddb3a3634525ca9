import CallModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A finished call waiting in a callback's queue: its record and when it ended on the wall
/// clock (read when the record arrived; every other instant is derived from the record's own
/// uptime offsets, so exported timings are the gateway's measurements to the nanosecond).
/// Queuing the record rather than its rendering keeps the encoding off the event loop.
public struct QueuedCall: Sendable {
    public var record: CallRecord
    public var endUnixNanos: UInt64

    /// Stamps `record` with the wall clock now.
    init(_ record: CallRecord) {
        self.record = record
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        endUnixNanos = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
