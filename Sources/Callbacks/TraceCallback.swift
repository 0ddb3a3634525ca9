import CallModel
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `otel` and `langfuse` callbacks: every finished call becomes an OTLP trace (see
/// ``CallSpans``) sent over OTLP/HTTP as JSON. On the event loop a record costs one wall-clock
/// read and one append to a bounded queue; the spans are built and encoded on the sender's task.
public final class TraceCallback: CallRecordSink, Sendable {
    let sender: BatchingSender<TraceEntry>
    let onSuccess: Bool
    let onFailure: Bool

    init(sender: BatchingSender<TraceEntry>, onSuccess: Bool, onFailure: Bool) {
        self.sender = sender
        self.onSuccess = onSuccess
        self.onFailure = onFailure
    }

    public func record(_ r: CallRecord) {
        if case .clientGone? = r.failure { return }
        guard r.succeeded ? onSuccess : onFailure else { return }
        sender.add(TraceEntry(record: r, endUnixNanos: Self.unixNanos()))
    }

    /// The encoder of one sender: all entries' spans in one ExportTraceServiceRequest.
    static func encoder(spans: CallSpans, resource: [(String, String)]) -> BatchingSender<TraceEntry>.Encode {
        { entries in
            OTLPTraceRequest.encode(resource: resource, scopeVersion: "1", spans: entries.flatMap(spans.spans))
        }
    }

    static func unixNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
