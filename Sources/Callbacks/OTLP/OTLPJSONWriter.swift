import NIOCore
import OpenAIWire

/// Writes OTLP/HTTP JSON (the protobuf JSON mapping of `ExportTraceServiceRequest`): ids in
/// lowercase hex, enums as numbers, timestamps as decimal strings, attribute integers as JSON
/// numbers (the JSON mapping accepts both forms; Langfuse's ingestion reads only numbers, and
/// token counts are far below 2^53).
struct OTLPAttributes {
    private(set) var out = ByteBufferAllocator().buffer(capacity: 2048)
    private var first = true

    /// Keys are our own constants, written as they are (no escaping to check).
    private mutating func begin(_ key: StaticString) {
        out.writeStaticString(first ? "{\"key\":\"" : ",{\"key\":\"")
        first = false
        out.writeStaticString(key)
        out.writeStaticString("\",\"value\":{")
    }

    /// A string attribute whose key comes from outside (`OTEL_RESOURCE_ATTRIBUTES`): escaped.
    mutating func string(dynamicKey key: String, _ value: String) {
        out.writeStaticString(first ? "{\"key\":" : ",{\"key\":")
        first = false
        out.writeJSONString(key)
        out.writeStaticString(",\"value\":{\"stringValue\":")
        out.writeJSONString(value)
        out.writeStaticString("}}")
    }

    mutating func string(_ key: StaticString, _ value: String) {
        begin(key)
        out.writeStaticString("\"stringValue\":")
        out.writeJSONString(value)
        out.writeStaticString("}}")
    }

    mutating func optionalString(_ key: StaticString, _ value: String?) {
        if let value { string(key, value) }
    }

    mutating func int(_ key: StaticString, _ value: Int) {
        begin(key)
        out.writeString("\"intValue\":\(value)}}")
    }

    mutating func double(_ key: StaticString, _ value: Double) {
        guard value.isFinite else { return }
        begin(key)
        out.writeString("\"doubleValue\":\(value)}}")
    }

    mutating func bool(_ key: StaticString, _ value: Bool) {
        begin(key)
        out.writeString("\"boolValue\":\(value)}}")
    }

    /// `[ ... ]`
    var json: ByteBuffer {
        var b = ByteBuffer()
        b.writeStaticString("[")
        var body = out
        b.writeBuffer(&body)
        b.writeStaticString("]")
        return b
    }
}

/// One span of an OTLP request.
struct OTLPSpan {
    enum Kind: Int {
        case server = 2
        case client = 3
    }

    var traceID: String
    var spanID: String
    var parentSpanID: String?
    var name: String
    var kind: Kind
    var startUnixNanos: UInt64
    var endUnixNanos: UInt64
    var attributes = OTLPAttributes()
    /// An error status and its message; `nil`: unset (success).
    var error: String?

    func write(to out: inout ByteBuffer) {
        out.writeStaticString("{\"traceId\":\"")
        out.writeString(traceID)
        out.writeStaticString("\",\"spanId\":\"")
        out.writeString(spanID)
        out.writeStaticString("\"")
        if let parentSpanID {
            out.writeStaticString(",\"parentSpanId\":\"")
            out.writeString(parentSpanID)
            out.writeStaticString("\"")
        }
        out.writeStaticString(",\"name\":")
        out.writeJSONString(name)
        out.writeString(",\"kind\":\(kind.rawValue),\"startTimeUnixNano\":\"\(startUnixNanos)\",\"endTimeUnixNano\":\"\(endUnixNanos)\",\"attributes\":")
        var attrs = attributes.json
        out.writeBuffer(&attrs)
        if let error {
            out.writeStaticString(",\"status\":{\"code\":2,\"message\":")
            out.writeJSONString(error)
            out.writeStaticString("}")
        }
        out.writeStaticString("}")
    }
}

/// The request envelope: one resource, one instrumentation scope, the spans.
enum OTLPTraceRequest {
    static func encode(resource: [(String, String)], scopeVersion: String, spans: [OTLPSpan]) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(256 + spans.count * 1024)
        out.writeStaticString("{\"resourceSpans\":[{\"resource\":{\"attributes\":")
        var attrs = OTLPAttributes()
        for (k, v) in resource { attrs.string(dynamicKey: k, v) }
        var a = attrs.json
        out.writeBuffer(&a)
        out.writeStaticString("},\"scopeSpans\":[{\"scope\":{\"name\":\"switchboard\",\"version\":")
        out.writeJSONString(scopeVersion)
        out.writeStaticString("},\"spans\":[")
        for (i, span) in spans.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            span.write(to: &out)
        }
        out.writeStaticString("]}]}]}")
        return out
    }
}
