import CallModel
import OpenAIWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A finished call as the call-log formats read it (otel, langfuse, generic_api): its record,
/// when it ended on the wall clock and its trace id. Made on the event loop in the tick the
/// call ended, written into every callback's open batch, and gone at the end of that tick:
/// nothing of it is queued (the batches hold bytes). A class: the encoders and their closures
/// share it by reference (a struct copied into a closure copies the record, a retain and
/// release of each of its references).
final class LoggedCall {
    let record: CallRecord
    /// The wall clock when the call ended (read once per tick; every other instant is derived
    /// from the record's own uptime offsets, so exported timings are the gateway's
    /// measurements to the nanosecond).
    var endUnixNanos: UInt64
    /// The call's trace id (``CallSpans/traceBits(callID:)``).
    var trace: TraceID
    /// The request body's top-level members (the gateway's scan; scanned here for a record
    /// that came without it).
    var requestScan: JSONObjectScan?

    /// A call that ended at `endUnixNanos` (now, unless said).
    convenience init(_ record: consuming CallRecord, endUnixNanos: UInt64 = LoggedCall.wallClockNow()) {
        self.init(unstamped: record)
        stamp(endUnixNanos)
    }

    /// A call whose end, trace id and members are filled in later (``stamp(_:)``): the event
    /// loop keeps it so until the tick's answers are out.
    init(unstamped record: consuming CallRecord) {
        self.record = record
        endUnixNanos = 0
        trace = TraceID(high: 0, low: 0)
    }

    func stamp(_ endUnixNanos: UInt64) {
        self.endUnixNanos = endUnixNanos
        trace = CallSpans.traceBits(callID: record.callID)
        requestScan = record.requestMembers ?? record.requestBody.flatMap { try? JSONScanner.scanObject($0) }
    }

    /// Nanoseconds since the Unix epoch.
    static func wallClockNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
