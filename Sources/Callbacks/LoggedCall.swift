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
    /// The request body's top-level members (the gateway's scan, else scanned here), in place
    /// as ``requestBytes`` (empty without a body).
    private(set) var requestMembers = UnsafeBufferPointer<JSONMemberSpan>(start: nil, count: 0)
    /// The members of a request body that came without the gateway's scan.
    private var scannedMembers: JSONObjectScan?
    /// The request body's bytes, in place (empty without one). The record holds the body's
    /// buffer, which nothing writes again, for as long as this entry lives: the encoders read
    /// it through this view, not through a copy of the `ByteBuffer` (a retain and a release
    /// each time).
    private(set) var requestBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The response body's bytes, in place (`nil` without one), as ``requestBytes``.
    private(set) var responseBytes: UnsafeRawBufferPointer?
    /// Where the request's input is in ``requestBytes``: its `messages`, `prompt` or `input`
    /// member (found once for every callback that logs it).
    private(set) var input: Range<Int>?

    /// A call that ended at `endUnixNanos` (now, unless said).
    convenience init(_ record: consuming CallRecord, endUnixNanos: UInt64 = LoggedCall.wallClockNow()) {
        self.init(unstamped: record)
        stamp(endUnixNanos)
    }

    /// A call whose end, trace id and members are filled in later (``stamp(_:)``): the event
    /// loop keeps it so until the tick's answers are out.
    /// (The bodies are found here, in the record still owned: read through `self`, each would
    /// be copied, a retain and a release.)
    init(unstamped record: consuming CallRecord) {
        if let body = record.requestBody {
            requestBytes = body.withUnsafeReadableBytes { $0 }
            if let scan = record.requestMembers {
                requestMembers = scan.members.withUnsafeBufferPointer { $0 }
                input = Self.member(Self.inputKey(record.route), of: requestMembers, in: requestBytes)
            }
        }
        responseBytes = record.responseBody?.withUnsafeReadableBytes { $0 }
        self.record = record
        endUnixNanos = 0
        trace = TraceID(high: 0, low: 0)
    }

    /// `trace`: whether to parse the trace id (only trace callbacks read it).
    func stamp(_ endUnixNanos: UInt64, trace: Bool = true) {
        self.endUnixNanos = endUnixNanos
        if trace { self.trace = CallSpans.traceBits(callID: record.callID) }
        if record.requestMembers == nil, let body = record.requestBody, let scan = try? JSONScanner.scanObject(body) {
            scannedMembers = scan
            requestMembers = scannedMembers!.members.withUnsafeBufferPointer { $0 }
            input = Self.member(Self.inputKey(record.route), of: requestMembers, in: requestBytes)
        }
    }

    /// The request member that holds a call's input.
    static func inputKey(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .embeddings: return "input"
        case .completions: return "prompt"
        case .chatCompletions: return "messages"
        }
    }

    /// The value of the first top-level member `key` of a scanned JSON object.
    static func member(_ key: StaticString, of members: UnsafeBufferPointer<JSONMemberSpan>, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        let want = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        for m in members where JSONObjectScan.keyEquals(m, want, bytes) { return m.valueStart..<m.valueEnd }
        return nil
    }

    /// Nanoseconds since the Unix epoch.
    static func wallClockNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
