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
            return Spans(request: OTLPProtoTraceRequest(resource: resource, scopeVersion: "1"), spans: CallSpanWriter<ProtoOut>(directory: directory, flavor: flavor))
        case .json:
            return Spans(request: OTLPTraceRequest(resource: resource, scopeVersion: "1"), spans: CallSpanWriter<JSONOut>(directory: directory, flavor: flavor))
        }
    }

    /// One encoding's spans in its request envelope: `http/protobuf` (spans are fields of one
    /// `ScopeSpans`, one after the other) or `http/json` (members of one JSON array). A class:
    /// a lane's existential holds a reference, never a copy of the encoders' tables.
    final class Spans<W: SpanOut, Envelope: OTLPEnvelope>: CallBatchFormat {
        let request: Envelope
        let spans: CallSpanWriter<W>
        init(request: Envelope, spans: CallSpanWriter<W>) {
            self.request = request
            self.spans = spans
        }
        var bytesPerCall: Int { spans.bytesPerCall }
        var separator: UInt8? { W.spanSeparator }
        var room: Int { request.room }
        func write(_ call: LoggedCall, first: Bool, to body: inout ByteBuffer) { spans.write(call, first: first, to: &body) }
        func close(_ body: inout ByteBuffer) { request.close(&body) }
    }
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
