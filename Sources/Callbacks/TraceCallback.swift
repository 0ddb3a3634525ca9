import CallModel
import NIOCore

/// The `otel` and `langfuse` callbacks: every finished call becomes an OTLP trace (see
/// ``CallSpans``) sent over OTLP/HTTP. On the event loop a record is only queued
/// (``CallbackQueues``); the spans are built and encoded on the sender's task.
enum TraceCallback {

    /// The encoder of one sender: all entries' spans in one ExportTraceServiceRequest, in
    /// the exporter's protocol (`http/protobuf` or `http/json`). The resource and scope are
    /// encoded here, once; each call's spans are written straight into the request's buffer,
    /// reserved for the whole batch.
    static func encoder(
        protocol: OTLPExporterSettings.WireProtocol, directory: DeploymentDirectory, flavor: CallSpans.Flavor, resource: [(String, String)]
    ) -> BatchingSender<QueuedCall>.EncodeInto {
        switch `protocol` {
        case .protobuf:
            let request = OTLPProtoTraceRequest(resource: resource, scopeVersion: "1")
            let spans = CallSpanWriter<ProtoOut>(directory: directory, flavor: flavor)
            return { entries, out in
                request.encode(into: &out, capacity: entries.count * spans.bytesPerCall) { out in
                    for i in entries.indices { spans.write(entries[i], first: i == 0, to: &out) }
                }
            }
        case .json:
            let request = OTLPTraceRequest(resource: resource, scopeVersion: "1")
            let spans = CallSpanWriter<JSONOut>(directory: directory, flavor: flavor)
            return { entries, out in
                request.encode(into: &out, capacity: entries.count * spans.bytesPerCall) { out in
                    for i in entries.indices { spans.write(entries[i], first: i == 0, to: &out) }
                }
            }
        }
    }
}
