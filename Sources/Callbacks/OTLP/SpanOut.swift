import NIOCore

/// What ``CallSpans`` and ``LangfuseAttributes`` write a span with, in either OTLP/HTTP
/// encoding: ``JSONOut`` (`http/json`, the protobuf JSON mapping) or ``ProtoOut``
/// (`http/protobuf`, the binary protobuf encoding). Both write into memory reserved up front
/// for a bound computed from the call (the JSON bound, which the protobuf encoding never
/// exceeds: it has no escapes and shorter keys).
///
/// A span is written in order: ``spanHead(trace:spanID:parent:first:)``, a name, then
/// ``spanTimes(kind:start:end:operation:)`` (which also writes the first attribute,
/// `gen_ai.operation.name`), more attributes, and ``spanEnd(error:)``.
protocol SpanOut {
    init(_ memory: UnsafeMutableRawBufferPointer)
    /// Checks that the writes stayed within the reserved memory; answers the bytes written.
    func finish() -> Int
    var count: Int { get }

    /// Starts a span (`first`: the first of a request's spans, no separator before it).
    mutating func spanHead(trace: TraceID, spanID: UInt64, parent: UInt64?, first: Bool)
    /// The span's name: `{operation} {tail}` (`unknown` without a tail; the string is read in
    /// place, not copied).
    mutating func spanName(_ operation: StaticString, _ tail: String?)
    /// The span's name with a tail made once (``nameTail(_:)``).
    mutating func spanName(_ operation: StaticString, encodedTail: [UInt8])
    /// Kind, start and end, and the attribute `gen_ai.operation.name`.
    mutating func spanTimes(kind: SpanKind, start: UInt64, end: UInt64, operation: StaticString)
    /// The error status when there is one; ends the span.
    mutating func spanEnd(error: String?)

    mutating func stringAttribute(_ key: StaticString, _ value: String)
    /// A string attribute whose value is a constant.
    mutating func staticStringAttribute(_ key: StaticString, _ value: StaticString)
    mutating func intAttribute(_ key: StaticString, _ value: Int)
    /// Left out when not finite.
    mutating func doubleAttribute(_ key: StaticString, _ value: Double)
    mutating func boolAttribute(_ key: StaticString, _ value: Bool)
    /// Attributes encoded once, in this encoding (``DeploymentSpanBytes``), as they are.
    mutating func raw(_ bytes: [UInt8])
    /// A string attribute with the UTF-8 `bytes`.
    mutating func stringAttribute(_ key: StaticString, bytes: UnsafeRawBufferPointer)
    /// A string attribute carrying a JSON document that `write` writes (at most `bound` bytes).
    mutating func documentAttribute(_ key: StaticString, bound: Int, _ write: (inout JSONOut) -> Void)

    /// A span name's tail in this encoding, made once per deployment.
    static func nameTail(_ text: String) -> [UInt8]
    /// What goes between two spans written separately (`,` in JSON; nothing in protobuf).
    static var spanSeparator: UInt8? { get }
}

extension SpanOut {
    mutating func optionalStringAttribute(_ key: StaticString, _ value: String?) {
        if let value { stringAttribute(key, value) }
    }

    /// Bytes written by `write`, which writes at most `bound` bytes (fragments made once).
    static func bytes(bound: Int, _ write: (inout Self) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bound) { memory, n in
            var w = Self(UnsafeMutableRawBufferPointer(memory))
            write(&w)
            n = w.finish()
        }
    }
}

extension ByteBuffer {
    /// Appends what `write` writes in encoding `W`, having reserved `bound` bytes for it.
    mutating func writeSpans<W: SpanOut>(_: W.Type, bound: Int, _ write: (inout W) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { memory in
            var w = W(memory)
            write(&w)
            return w.finish()
        }
    }
}
