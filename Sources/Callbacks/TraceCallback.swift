import CallModel
import NIOCore

/// The `otel` and `langfuse` callbacks: every finished call becomes an OTLP trace (see
/// ``CallSpans``) sent over OTLP/HTTP as JSON. On the event loop a record costs one wall-clock
/// read and one append to a bounded queue; the spans are built and encoded on the sender's task.
public final class TraceCallback: CallRecordSink, Sendable {
    let sender: BatchingSender<QueuedCall>
    let onSuccess: Bool
    let onFailure: Bool

    init(sender: BatchingSender<QueuedCall>, onSuccess: Bool, onFailure: Bool) {
        self.sender = sender
        self.onSuccess = onSuccess
        self.onFailure = onFailure
    }

    public func record(_ r: CallRecord) {
        if case .clientGone? = r.failure { return }
        guard r.succeeded ? onSuccess : onFailure else { return }
        sender.add(QueuedCall(r))
    }

    /// The encoder of one sender: all entries' spans in one ExportTraceServiceRequest.
    static func encoder(spans: CallSpans, resource: [(String, String)]) -> BatchingSender<QueuedCall>.Encode {
        { entries in
            OTLPTraceRequest.encode(resource: resource, scopeVersion: "1", spans: entries.flatMap(spans.spans))
        }
    }
}
