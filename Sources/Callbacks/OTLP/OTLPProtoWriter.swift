import NIOCore

/// Writes OTLP/HTTP protobuf (`http/protobuf`, the OTLP default): the binary encoding of
/// `ExportTraceServiceRequest` (opentelemetry-proto `collector/trace/v1`), by hand — the
/// handful of messages a span needs, no code generator and no package. Ids are raw bytes,
/// times `fixed64`, numbers varints or `double`s, strings copied as they are: no escaping, no
/// hex or decimal formatting, and about half the bytes of the JSON mapping.
///
/// Lengths: a key/value's are computed before it is written (every part's size is known); a
/// span's is written after it, into the 5 bytes reserved at its head (a redundant varint: the
/// span is never moved); the
/// request's envelope is written last, in front of the spans (``OTLPProtoTraceRequest``).
struct ProtoOut: SpanOut, ReservedBytesWriter {
    var out: ReservedBytes
    static var writerName: StaticString { "ProtoOut" }
    /// Where the open span's length goes (5 bytes reserved).
    private var spanSlot = 0

    init(reserved: ReservedBytes) {
        out = reserved
    }

    // MARK: Wire primitives

    /// Base-128, least significant group first.
    @inline(__always)
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    static func varintSize(_ v: UInt64) -> Int {
        // 1 + floor(bits / 7), with 0 taking one byte.
        (64 - (v | 1).leadingZeroBitCount + 6) / 7
    }

    /// `v` little-endian in 8 bytes (`fixed64`, `double`).
    @inline(__always)
    mutating func fixed64(_ v: UInt64) {
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt64.self)
        count &+= 8
    }

    /// `v` big-endian in 8 bytes (an id's bytes in the order its hex digits are read).
    @inline(__always)
    mutating func id64(_ v: UInt64) {
        base.storeBytes(of: v.bigEndian, toByteOffset: count, as: UInt64.self)
        count &+= 8
    }

    /// A length-delimited field: tag, length, bytes.
    mutating func field(_ tag: UInt8, _ bytes: UnsafeRawBufferPointer) {
        byte(tag)
        varint(UInt64(bytes.count))
        raw(bytes)
    }

    // MARK: Attributes (Span.attributes = 9; KeyValue{key = 1, value = 2}; AnyValue{string = 1, bool = 2, int = 3, double = 4})

    /// A `KeyValue` in field `tag` up to its `AnyValue`'s first byte (`valueLength` bytes follow).
    @inline(__always)
    mutating func keyValueHead(_ tag: UInt8, key: UnsafeRawBufferPointer, valueLength: Int) {
        let k = key.count
        let length = 1 + Self.varintSize(UInt64(k)) + k + 1 + Self.varintSize(UInt64(valueLength)) + valueLength
        byte(tag)
        varint(UInt64(length))
        field(0x0A, key)
        byte(0x12)
        varint(UInt64(valueLength))
    }

    /// A string-valued `KeyValue` in field `tag`.
    mutating func stringKeyValue(_ tag: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        keyValueHead(tag, key: key, valueLength: 1 + Self.varintSize(UInt64(value.count)) + value.count)
        field(0x0A, value)
    }

    @inline(__always)
    private static func bytes(_ s: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)
    }

    mutating func stringAttribute(_ key: StaticString, _ value: String) {
        // The string's own bytes when it has them (no copy of it, so no retain and release).
        if value.utf8.withContiguousStorageIfAvailable({ stringKeyValue(0x4A, key: Self.bytes(key), value: UnsafeRawBufferPointer($0)) }) != nil {
            return
        }
        var value = value
        value.withUTF8 { stringKeyValue(0x4A, key: Self.bytes(key), value: UnsafeRawBufferPointer($0)) }
    }

    mutating func staticStringAttribute(_ key: StaticString, _ value: StaticString) {
        stringKeyValue(0x4A, key: Self.bytes(key), value: Self.bytes(value))
    }

    mutating func intAttribute(_ key: StaticString, _ value: Int) {
        let v = UInt64(bitPattern: Int64(value))
        keyValueHead(0x4A, key: Self.bytes(key), valueLength: 1 + Self.varintSize(v))
        byte(0x18)
        varint(v)
    }

    mutating func doubleAttribute(_ key: StaticString, _ value: Double) {
        guard value.isFinite else { return }
        keyValueHead(0x4A, key: Self.bytes(key), valueLength: 9)
        byte(0x21)
        fixed64(value.bitPattern)
    }

    mutating func boolAttribute(_ key: StaticString, _ value: Bool) {
        keyValueHead(0x4A, key: Self.bytes(key), valueLength: 2)
        byte(0x10)
        byte(value ? 1 : 0)
    }

    mutating func stringAttribute(_ key: StaticString, bytes: UnsafeRawBufferPointer) {
        stringKeyValue(0x4A, key: Self.bytes(key), value: bytes)
    }

    /// The document as it is (a protobuf string needs no escaping).
    mutating func documentAttribute(_ key: StaticString, bound: Int, _ write: (inout JSONOut) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: bound, alignment: 8) { memory in
            var w = JSONOut(memory)
            write(&w)
            stringKeyValue(0x4A, key: Self.bytes(key), value: UnsafeRawBufferPointer(rebasing: memory[0..<w.finish()]))
        }
    }

    // MARK: Spans (ScopeSpans.spans = 2)

    /// Span{trace_id = 1, span_id = 2, parent_span_id = 4}; the span's length is written by ``spanEnd(error:)``.
    mutating func spanHead(trace: TraceID, spanID: UInt64, parent: UInt64?, first: Bool) {
        byte(0x12)
        spanSlot = count
        count &+= 5
        byte(0x0A); byte(16); id64(trace.high); id64(trace.low)
        byte(0x12); byte(8); id64(spanID)
        if let parent { byte(0x22); byte(8); id64(parent) }
    }

    /// name = 5.
    mutating func spanName(_ operation: StaticString, _ tail: String?) {
        guard let tail else {
            let unknown: StaticString = "unknown"
            return spanName(operation, UnsafeRawBufferPointer(start: unknown.utf8Start, count: unknown.utf8CodeUnitCount))
        }
        if tail.utf8.withContiguousStorageIfAvailable({ spanName(operation, UnsafeRawBufferPointer($0)) }) != nil { return }
        var copy = tail
        copy.withUTF8 { spanName(operation, UnsafeRawBufferPointer($0)) }
    }

    mutating func spanName(_ operation: StaticString, encodedTail: [UInt8]) {
        encodedTail.withUnsafeBytes { spanName(operation, $0) }
    }

    private mutating func spanName(_ operation: StaticString, _ tail: UnsafeRawBufferPointer) {
        byte(0x2A)
        varint(UInt64(operation.utf8CodeUnitCount + 1 + tail.count))
        raw(operation)
        byte(UInt8(ascii: " "))
        raw(tail)
    }

    /// The tail as it is.
    static func nameTail(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Spans are repeated fields: simply one after the other.
    static var spanSeparator: UInt8? { nil }

    /// kind = 6 (2 server, 3 client), start_time_unix_nano = 7, end_time_unix_nano = 8 (fixed64).
    mutating func spanTimes(kind: SpanKind, start: UInt64, end: UInt64, operation: StaticString) {
        byte(0x30)
        byte(kind == .server ? 2 : 3)
        byte(0x39)
        fixed64(start)
        byte(0x41)
        fixed64(end)
        staticStringAttribute("gen_ai.operation.name", operation)
    }

    /// status = 15: Status{message = 2, code = 3 (2: error)}; then the span's length, in
    /// the slot reserved by ``spanHead(trace:spanID:parent:first:)``.
    mutating func spanEnd(error: String?) {
        if var error {
            error.withUTF8 { message in
                let m = message.count
                byte(0x7A)
                varint(UInt64(1 + Self.varintSize(UInt64(m)) + m + 2))
                field(0x12, UnsafeRawBufferPointer(message))
                byte(0x18)
                byte(2)
            }
        }
        let end = count
        let length = UInt64(end - spanSlot - 5)
        // Five bytes whatever the length: a varint with redundant continuation bytes, which
        // every protobuf parser reads (as Perfetto's protozero writes nested lengths), so the
        // span is never moved down.
        count = spanSlot
        for shift in stride(from: 0, to: 28, by: 7) { byte(UInt8(truncatingIfNeeded: length >> UInt64(shift)) | 0x80) }
        byte(UInt8(truncatingIfNeeded: length >> 28))
        count = end
    }
}

/// The protobuf request envelope: ExportTraceServiceRequest{resource_spans = 1:
/// ResourceSpans{resource = 1: Resource{attributes = 1}, scope_spans = 2:
/// ScopeSpans{scope = 1: InstrumentationScope{name = 1, version = 2}, spans = 2}}}.
struct OTLPProtoTraceRequest: Sendable {
    /// The `Resource` and `InstrumentationScope` messages' contents, made once.
    let resource: [UInt8]
    let scope: [UInt8]

    init(resource attributes: [(String, String)], scopeVersion: String) {
        let bound = 64 + attributes.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 24 }
        resource = ProtoOut.bytes(bound: bound) { out in
            for (k, v) in attributes {
                var k = k
                var v = v
                k.withUTF8 { key in v.withUTF8 { value in out.stringKeyValue(0x0A, key: UnsafeRawBufferPointer(key), value: UnsafeRawBufferPointer(value)) } }
            }
        }
        scope = ProtoOut.bytes(bound: 64 + scopeVersion.utf8.count) { out in
            out.field(0x0A, UnsafeRawBufferPointer(start: ("switchboard" as StaticString).utf8Start, count: 11))
            var version = scopeVersion
            version.withUTF8 { out.field(0x12, UnsafeRawBufferPointer($0)) }
        }
    }

    /// Bytes kept free in front of the spans for the envelope.
    var room: Int { 48 + resource.count + scope.count }

    /// Puts the envelope, whose lengths depend on the spans', around the spans in `out` (its
    /// readable bytes), in the room left in front of them.
    func close(_ out: inout ByteBuffer) {
        let spans = out.readableBytes
        func size(_ n: Int) -> Int { ProtoOut.varintSize(UInt64(n)) }
        let scopeSpans = 1 + size(scope.count) + scope.count + spans
        let resourceSpans = 1 + size(resource.count) + resource.count + 1 + size(scopeSpans) + scopeSpans
        let head = ProtoOut.bytes(bound: room) { h in
            h.byte(0x0A); h.varint(UInt64(resourceSpans))
            resource.withUnsafeBytes { h.field(0x0A, $0) }
            h.byte(0x12); h.varint(UInt64(scopeSpans))
            scope.withUnsafeBytes { h.field(0x0A, $0) }
        }
        out.moveReaderIndex(to: out.readerIndex - head.count)
        out.setBytes(head, at: out.readerIndex)
    }
}
