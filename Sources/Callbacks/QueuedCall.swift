import CallModel
import OpenAIWire
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A finished call waiting in the callbacks' queues: its record and when it ended on the wall
/// clock (read when the record arrived; every other instant is derived from the record's own
/// uptime offsets, so exported timings are the gateway's measurements to the nanosecond).
/// Queuing the record rather than its rendering keeps the encoding off the event loop.
/// A class: one entry, made once per call, is shared by every callback's queue (a retain
/// each, not a copy of the record each).
public final class QueuedCall: Sendable {
    public let record: CallRecord
    public let endUnixNanos: UInt64
    /// The request body's top-level members, scanned by the first encoder that needs them
    /// (langfuse and generic_api both read the input): one scan a call, not one per callback.
    private let scanned = Mutex<JSONObjectScan??>(nil)

    /// The request body's members (`nil`: no body, or not a JSON object).
    var requestScan: JSONObjectScan? {
        scanned.withLock { cached in
            if let done = cached { return done }
            let scan = record.requestBody.flatMap { try? JSONScanner.scanObject($0) }
            cached = .some(scan)
            return scan
        }
    }

    /// Stamps `record` with the wall clock now.
    init(_ record: CallRecord) {
        self.record = record
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        endUnixNanos = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// The record sink of the queued callbacks (otel, langfuse, generic_api): one ``QueuedCall``
/// per finished call, appended to the queue of each callback that logs it (successes,
/// failures or both). On the event loop a call costs one wall-clock read, one allocation and
/// an append per callback.
final class CallbackQueues: CallRecordSink, Sendable {
    struct Target: Sendable {
        var sender: BatchingSender<QueuedCall>
        var onSuccess: Bool
        var onFailure: Bool
    }

    let targets: [Target]

    init(_ targets: [Target]) {
        self.targets = targets
    }

    func record(_ r: CallRecord) {
        // A client that went away is not a call to log (LiteLLM logs none either).
        if case .clientGone? = r.failure { return }
        let success = r.succeeded
        var entry: QueuedCall?
        for t in targets where success ? t.onSuccess : t.onFailure {
            let e = entry ?? QueuedCall(r)
            entry = e
            t.sender.add(e)
        }
    }
}
