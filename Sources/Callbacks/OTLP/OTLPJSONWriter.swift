import NIOCore
import OpenAIWire

/// Writes OTLP/HTTP JSON (the protobuf JSON mapping of `ExportTraceServiceRequest`): ids in
/// lowercase hex, enums as numbers, timestamps as decimal strings, attribute integers as JSON
/// numbers (the JSON mapping accepts both forms; Langfuse's ingestion reads only numbers, and
/// token counts are far below 2^53).
///
/// Everything is written straight into the batch's buffer: an attribute list is written
/// member by member, each attribute after the first with a leading comma
/// (``attributeKey(_:_:)``), and the parts that never change (keys, a deployment's attributes)
/// are constants or bytes made once.
extension ByteBuffer {
    /// `,{"key":"<key>","value":{"<type>":` — a constant key (nothing to escape).
    @inline(__always)
    mutating func attributeKey(_ key: StaticString, _ type: StaticString) {
        writeStaticString(",{\"key\":\"")
        writeStaticString(key)
        writeStaticString("\",\"value\":{\"")
        writeStaticString(type)
        writeStaticString("\":")
    }

    mutating func stringAttribute(_ key: StaticString, _ value: String) {
        attributeKey(key, "stringValue")
        writeJSONString(value)
        writeStaticString("}}")
    }

    mutating func optionalStringAttribute(_ key: StaticString, _ value: String?) {
        if let value { stringAttribute(key, value) }
    }

    /// A string attribute whose value is a constant without escapes.
    mutating func staticStringAttribute(_ key: StaticString, _ value: StaticString) {
        attributeKey(key, "stringValue")
        writeInteger(UInt8(ascii: "\""))
        writeStaticString(value)
        writeStaticString("\"}}")
    }

    mutating func intAttribute(_ key: StaticString, _ value: Int) {
        attributeKey(key, "intValue")
        writeDecimal(value)
        writeStaticString("}}")
    }

    /// Left out when not finite (JSON has no such numbers).
    mutating func doubleAttribute(_ key: StaticString, _ value: Double) {
        guard value.isFinite else { return }
        attributeKey(key, "doubleValue")
        writeDouble(value)
        writeStaticString("}}")
    }

    mutating func boolAttribute(_ key: StaticString, _ value: Bool) {
        attributeKey(key, "boolValue")
        writeStaticString(value ? "true}}" : "false}}")
    }

    /// `{"traceId":"…","spanId":"…"[,"parentSpanId":"…"],"name":` — the name follows.
    mutating func spanHead(trace: TraceID, spanID: UInt64, parent: UInt64?) {
        writeStaticString("{\"traceId\":\"")
        writeHex16(trace.high)
        writeHex16(trace.low)
        writeStaticString("\",\"spanId\":\"")
        writeHex16(spanID)
        if let parent {
            writeStaticString("\",\"parentSpanId\":\"")
            writeHex16(parent)
        }
        writeStaticString("\",\"name\":")
    }

    /// `,"kind":…,"startTimeUnixNano":"…","endTimeUnixNano":"…","attributes":[` — the attributes follow.
    mutating func spanTimes(kind: SpanKind, start: UInt64, end: UInt64) {
        writeStaticString(kind == .server ? ",\"kind\":2,\"startTimeUnixNano\":\"" : ",\"kind\":3,\"startTimeUnixNano\":\"")
        writeDecimal(start)
        writeStaticString("\",\"endTimeUnixNano\":\"")
        writeDecimal(end)
        writeStaticString("\",\"attributes\":[")
    }

    /// `]` closing the attributes, the error status when there is one, and `}`.
    mutating func spanEnd(error: String?) {
        writeInteger(UInt8(ascii: "]"))
        if let error {
            writeStaticString(",\"status\":{\"code\":2,\"message\":")
            writeJSONString(error)
            writeInteger(UInt8(ascii: "}"))
        }
        writeInteger(UInt8(ascii: "}"))
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
    let head: ByteBuffer

    init(resource: [(String, String)], scopeVersion: String) {
        head = .bytes { out in
            out.writeStaticString("{\"resourceSpans\":[{\"resource\":{\"attributes\":[")
            for (i, (k, v)) in resource.enumerated() {
                out.writeStaticString(i == 0 ? "{\"key\":" : ",{\"key\":")
                out.writeJSONString(k)
                out.writeStaticString(",\"value\":{\"stringValue\":")
                out.writeJSONString(v)
                out.writeStaticString("}}")
            }
            out.writeStaticString("]},\"scopeSpans\":[{\"scope\":{\"name\":\"switchboard\",\"version\":")
            out.writeJSONString(scopeVersion)
            out.writeStaticString("},\"spans\":[")
        }
    }

    /// One request: `writeSpans` writes the spans, comma-separated.
    func encode(capacity: Int, _ writeSpans: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: head.readableBytes + capacity + 8)
        out.writeImmutableBuffer(head)
        writeSpans(&out)
        out.writeStaticString("]}]}]}")
        return out
    }
}
