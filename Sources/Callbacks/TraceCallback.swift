import CallModel
import NIOCore

/// The `otel` and `langfuse` callbacks: every finished call becomes an OTLP trace (see
/// ``CallSpans``) sent over OTLP/HTTP. A call's spans are written into its event loop's open
/// batch at the end of the tick it ended in (``CallLogLane``); the sender only sends.
enum TraceCallback {

    /// The format of one callback: the calls' spans in an ExportTraceServiceRequest, in the
    /// exporter's protocol (`http/protobuf` or `http/json`). The resource and scope are
    /// encoded here, once; each call's spans are written straight into its batch's buffer.
    static func format(
        protocol: OTLPExporterSettings.WireProtocol, directory: DeploymentDirectory, flavor: CallSpans.Flavor, resource: [(String, String)]
    ) -> any CallBatchFormat {
        switch `protocol` {
        case .protobuf:
            return ProtoSpans(request: OTLPProtoTraceRequest(resource: resource, scopeVersion: "1"), spans: CallSpanWriter(directory: directory, flavor: flavor))
        case .json:
            return JSONSpans(request: OTLPTraceRequest(resource: resource, scopeVersion: "1"), spans: CallSpanWriter(directory: directory, flavor: flavor))
        }
    }

    /// `http/protobuf`: spans are fields of one `ScopeSpans`, simply one after the other.
    /// (The formats are classes: a lane's existential holds a reference, never a copy of the
    /// encoders' tables.)
    final class ProtoSpans: CallBatchFormat {
        let request: OTLPProtoTraceRequest
        let spans: CallSpanWriter<ProtoOut>
        init(request: OTLPProtoTraceRequest, spans: CallSpanWriter<ProtoOut>) {
            self.request = request
            self.spans = spans
        }
        var bytesPerCall: Int { spans.bytesPerCall }
        var separator: UInt8? { nil }
        var room: Int { request.room }
        func write(_ call: LoggedCall, first: Bool, to body: inout ByteBuffer) { spans.write(call, first: first, to: &body) }
        func close(_ body: inout ByteBuffer) { request.close(&body) }
    }

    /// `http/json`: spans are members of one JSON array.
    final class JSONSpans: CallBatchFormat {
        let request: OTLPTraceRequest
        let spans: CallSpanWriter<JSONOut>
        init(request: OTLPTraceRequest, spans: CallSpanWriter<JSONOut>) {
            self.request = request
            self.spans = spans
        }
        var bytesPerCall: Int { spans.bytesPerCall }
        var separator: UInt8? { UInt8(ascii: ",") }
        var room: Int { request.room }
        func write(_ call: LoggedCall, first: Bool, to body: inout ByteBuffer) { spans.write(call, first: first, to: &body) }
        func close(_ body: inout ByteBuffer) { request.close(&body) }
    }
}
