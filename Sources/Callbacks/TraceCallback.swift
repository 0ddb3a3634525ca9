import CallModel
import NIOCore

/// The `otel` and `langfuse` callbacks: every finished call becomes an OTLP trace (see
/// ``CallSpans``) sent over OTLP/HTTP. On the event loop a record is only queued
/// (``CallbackQueues``); the spans are built and encoded on the sender's task.
enum TraceCallback {

    /// The encoder of one sender: all entries' spans in one ExportTraceServiceRequest.
    /// The resource and scope are encoded here, once; each call's spans are written straight
    /// into the request's buffer, reserved for the whole batch.
    static func encoder(spans: CallSpans, resource: [(String, String)]) -> BatchingSender<QueuedCall>.Encode {
        let request = OTLPTraceRequest(resource: resource, scopeVersion: "1")
        return { entries in
            request.encode(capacity: entries.count * spans.bytesPerCall) { out in
                for i in entries.indices {
                    if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                    spans.write(entries[i], to: &out)
                }
            }
        }
    }
}
