import NIOCore
import OpenAIWire

/// Writes OTLP/HTTP JSON (the protobuf JSON mapping of `ExportTraceServiceRequest`): ids in
/// lowercase hex, enums as numbers, timestamps as decimal strings, attribute integers as JSON
/// numbers (the JSON mapping accepts both forms; Langfuse's ingestion reads only numbers, and
/// token counts are far below 2^53).
///
/// Everything is written straight into the batch's buffer (through ``JSONOut``): an attribute
/// list is written member by member, each attribute after the first with a leading comma
/// (``JSONOut/attributeKey(_:_:)``), and the parts that never change (keys, a deployment's
/// attributes) are constants or bytes made once.
extension JSONOut: SpanOut {
    /// `,{"key":"<key>","value":{"<type>":` — a constant key (nothing to escape).
    @inline(__always)
    mutating func attributeKey(_ key: StaticString, _ type: StaticString) {
        raw(",{\"key\":\"")
        raw(key)
        raw("\",\"value\":{\"")
        raw(type)
        raw("\":")
    }

    mutating func stringAttribute(_ key: StaticString, _ value: String) {
        attributeKey(key, "stringValue")
        string(value)
        raw("}}")
    }

    /// A string attribute whose value is a constant without escapes.
    mutating func staticStringAttribute(_ key: StaticString, _ value: StaticString) {
        attributeKey(key, "stringValue")
        byte(UInt8(ascii: "\""))
        raw(value)
        raw("\"}}")
    }

    mutating func intAttribute(_ key: StaticString, _ value: Int) {
        attributeKey(key, "intValue")
        decimal(value)
        raw("}}")
    }

    /// Left out when not finite (JSON has no such numbers).
    mutating func doubleAttribute(_ key: StaticString, _ value: Double) {
        guard value.isFinite else { return }
        attributeKey(key, "doubleValue")
        double(value)
        raw("}}")
    }

    mutating func boolAttribute(_ key: StaticString, _ value: Bool) {
        attributeKey(key, "boolValue")
        raw(value ? "true}}" : "false}}")
    }

    /// `[,]{"traceId":"…","spanId":"…"[,"parentSpanId":"…"],"name":` — the name follows.
    mutating func spanHead(trace: TraceID, spanID: UInt64, parent: UInt64?, first: Bool) {
        raw(first ? "{\"traceId\":\"" : ",{\"traceId\":\"")
        hex16(trace.high)
        hex16(trace.low)
        raw("\",\"spanId\":\"")
        hex16(spanID)
        if let parent {
            raw("\",\"parentSpanId\":\"")
            hex16(parent)
        }
        raw("\",\"name\":")
    }

    mutating func spanName(_ operation: StaticString, _ tail: String?) {
        byte(UInt8(ascii: "\""))
        raw(operation)
        byte(UInt8(ascii: " "))
        if let tail { escaped(tail) } else { raw("unknown") }
        byte(UInt8(ascii: "\""))
    }

    mutating func spanName(_ operation: StaticString, encodedTail: [UInt8]) {
        byte(UInt8(ascii: "\""))
        raw(operation)
        byte(UInt8(ascii: " "))
        raw(encodedTail)
    }

    /// The tail escaped, and the closing quote.
    static func nameTail(_ text: String) -> [UInt8] {
        JSONOut.bytes(bound: 6 * text.utf8.count + 1) { out in
            out.escaped(text)
            out.byte(UInt8(ascii: "\""))
        }
    }

    /// Spans are members of one array.
    static var spanSeparator: UInt8? { UInt8(ascii: ",") }

    /// `,"kind":…,"startTimeUnixNano":"…","endTimeUnixNano":"…","attributes":[` and the first
    /// attribute (`gen_ai.operation.name`).
    mutating func spanTimes(kind: SpanKind, start: UInt64, end: UInt64, operation: StaticString) {
        raw(kind == .server ? ",\"kind\":2,\"startTimeUnixNano\":\"" : ",\"kind\":3,\"startTimeUnixNano\":\"")
        decimal(start)
        raw("\",\"endTimeUnixNano\":\"")
        decimal(end)
        raw("\",\"attributes\":[")
        raw("{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"")
        raw(operation)
        raw("\"}}")
    }

    mutating func stringAttribute(_ key: StaticString, bytes: UnsafeRawBufferPointer) {
        attributeKey(key, "stringValue")
        string(bytes: bytes)
        raw("}}")
    }

    /// The document escaped as a JSON string.
    mutating func documentAttribute(_ key: StaticString, bound: Int, _ write: (inout JSONOut) -> Void) {
        attributeKey(key, "stringValue")
        escapedDocument(bound: bound, write)
        raw("}}")
    }

    /// `]` closing the attributes, the error status when there is one, and `}`.
    mutating func spanEnd(error: String?) {
        byte(UInt8(ascii: "]"))
        if let error {
            raw(",\"status\":{\"code\":2,\"message\":")
            string(error)
            byte(UInt8(ascii: "}"))
        }
        byte(UInt8(ascii: "}"))
    }
}

/// A span's kind (the protobuf enum's numbers).
enum SpanKind {
    case server
    case client
}

/// A 128-bit trace id.
struct TraceID: Equatable {
    var high: UInt64
    var low: UInt64
}

/// The request envelope: one resource, one instrumentation scope, the spans.
struct OTLPTraceRequest: Sendable {
    /// Everything before the first span, made once.
    let head: [UInt8]

    init(resource: [(String, String)], scopeVersion: String) {
        let bound = 256 + 6 * resource.reduce(scopeVersion.utf8.count) { $0 + $1.0.utf8.count + $1.1.utf8.count } + 64 * resource.count
        head = JSONOut.bytes(bound: bound) { out in
            out.raw("{\"resourceSpans\":[{\"resource\":{\"attributes\":[")
            for (i, (k, v)) in resource.enumerated() {
                out.raw(i == 0 ? "{\"key\":" : ",{\"key\":")
                out.string(k)
                out.raw(",\"value\":{\"stringValue\":")
                out.string(v)
                out.raw("}}")
            }
            out.raw("]},\"scopeSpans\":[{\"scope\":{\"name\":\"switchboard\",\"version\":")
            out.string(scopeVersion)
            out.raw("},\"spans\":[")
        }
    }

    /// Bytes kept free in front of the spans for the envelope.
    var room: Int { head.count }

    /// Puts the envelope around the spans in `out` (its readable bytes, comma-separated).
    func close(_ out: inout ByteBuffer) {
        out.moveReaderIndex(to: out.readerIndex - head.count)
        out.setBytes(head, at: out.readerIndex)
        out.writeStaticString("]}]}]}")
    }
}
