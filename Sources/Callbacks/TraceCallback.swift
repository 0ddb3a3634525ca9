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

    /// `http/protobuf`. The formats are concrete classes: a lane's existential holds a
    /// reference, and each one's witnesses are specialized for its encoding (a generic class
    /// would run the span writer unspecialized, twice as slow by `bench-callbacks`).
    final class ProtoSpans: OTLPSpans {
        let request: OTLPProtoTraceRequest
        let spans: CallSpanWriter<ProtoOut>
        init(request: OTLPProtoTraceRequest, spans: CallSpanWriter<ProtoOut>) { (self.request, self.spans) = (request, spans) }
    }

    /// `http/json`.
    final class JSONSpans: OTLPSpans {
        let request: OTLPTraceRequest
        let spans: CallSpanWriter<JSONOut>
        init(request: OTLPTraceRequest, spans: CallSpanWriter<JSONOut>) { (self.request, self.spans) = (request, spans) }
    }
}

/// One encoding's spans in its request envelope: spans are fields of one `ScopeSpans`, one
/// after the other (protobuf), or members of one JSON array.
protocol OTLPSpans: CallBatchFormat {
    associatedtype W: SpanOut
    associatedtype Envelope: OTLPEnvelope
    var request: Envelope { get }
    var spans: CallSpanWriter<W> { get }
}

extension OTLPSpans {
    var bytesPerCall: Int { spans.bytesPerCall }
    var separator: UInt8? { W.spanSeparator }
    var room: Int { request.room }
    var readsTraceID: Bool { true }
    func write(_ call: LoggedCall, first: Bool, to body: inout ByteBuffer) { spans.write(call, first: first, to: &body) }
    func close(_ body: inout ByteBuffer) { request.close(&body) }
}

/// An OTLP request's envelope around its spans (``OTLPProtoTraceRequest``, ``OTLPTraceRequest``):
/// written last, into room kept in front of them.
protocol OTLPEnvelope: Sendable {
    /// Bytes kept free in front of the spans.
    var room: Int { get }
    /// Puts the envelope around the spans in `out` (its readable bytes).
    func close(_ out: inout ByteBuffer)
}

extension OTLPProtoTraceRequest: OTLPEnvelope {}
extension OTLPTraceRequest: OTLPEnvelope {}
