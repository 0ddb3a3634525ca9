/// Reads an OTLP/HTTP protobuf `ExportTraceServiceRequest` (opentelemetry-proto
/// `collector/trace/v1`) into ``ReceivedSpan``s, for ``FakeOTLPCollector``: a protobuf wire
/// reader written from the encoding's specification (varints, fixed64, length-delimited
/// fields; unknown fields skipped), independent of the exporter's writer.
enum OTLPProtobufDecoder {
    struct Malformed: Error {}

    /// One message's fields in order: number and value.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    static func fields(_ bytes: ArraySlice<UInt8>) throws -> [(Int, Value)] {
        var out: [(Int, Value)] = []
        var i = bytes.startIndex
        func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < bytes.endIndex, shift < 64 else { throw Malformed() }
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        func fixed(_ n: Int) throws -> UInt64 {
            guard bytes.endIndex - i >= n else { throw Malformed() }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            i += n
            return v
        }
        while i < bytes.endIndex {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: out.append((number, .varint(try varint())))
            case 1: out.append((number, .fixed64(try fixed(8))))
            case 2:
                let n = Int(try varint())
                guard n >= 0, bytes.endIndex - i >= n else { throw Malformed() }
                out.append((number, .bytes(bytes[i..<i + n])))
                i += n
            case 5: out.append((number, .fixed32(UInt32(try fixed(4)))))
            default: throw Malformed()
            }
        }
        return out
    }

    static func messages(_ fields: [(Int, Value)], _ number: Int) -> [ArraySlice<UInt8>] {
        fields.compactMap { n, v in
            if n == number, case .bytes(let b) = v { return b }
            return nil
        }
    }

    static func text(_ fields: [(Int, Value)], _ number: Int) -> String? {
        messages(fields, number).last.map { String(decoding: $0, as: UTF8.self) }
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The spans of one request (empty when the body is not a well-formed request).
    static func decode(_ body: [UInt8]) -> [ReceivedSpan] {
        (try? spans(body)) ?? []
    }

    static func spans(_ body: [UInt8]) throws -> [ReceivedSpan] {
        var out: [ReceivedSpan] = []
        for rs in messages(try fields(body[...]), 1) {
            let rsFields = try fields(rs)
            let resource = try messages(rsFields, 1).last.map { try attributes(messages(fields($0), 1)) } ?? [:]
            for ss in messages(rsFields, 2) {
                let ssFields = try fields(ss)
                let scope = try messages(ssFields, 1).last.map { try text(fields($0), 1) ?? "" } ?? ""
                for s in messages(ssFields, 2) {
                    let f = try fields(s)
                    var span = ReceivedSpan(
                        traceID: messages(f, 1).last.map(hex) ?? "", spanID: messages(f, 2).last.map(hex) ?? "",
                        parentSpanID: messages(f, 4).last.map(hex), name: text(f, 5) ?? "", kind: 0,
                        startUnixNanos: 0, endUnixNanos: 0, attributes: try attributes(messages(f, 9)),
                        statusCode: 0, statusMessage: nil, resource: resource, scope: scope)
                    for (n, v) in f {
                        switch (n, v) {
                        case (6, .varint(let k)): span.kind = Int(k)
                        case (7, .fixed64(let t)): span.startUnixNanos = t
                        case (8, .fixed64(let t)): span.endUnixNanos = t
                        default: break
                        }
                    }
                    if let status = messages(f, 15).last {
                        let sf = try fields(status)
                        span.statusMessage = text(sf, 2)
                        for case (3, .varint(let c)) in sf { span.statusCode = Int(c) }
                    }
                    out.append(span)
                }
            }
        }
        return out
    }

    /// `KeyValue`s → key → value as text (as the JSON decoding prints them).
    static func attributes(_ list: [ArraySlice<UInt8>]) throws -> [String: String] {
        var out: [String: String] = [:]
        for kv in list {
            let f = try fields(kv)
            guard let key = text(f, 1), let any = messages(f, 2).last else { continue }
            for (n, v) in try fields(any) {
                switch (n, v) {
                case (1, .bytes(let s)): out[key] = String(decoding: s, as: UTF8.self)
                case (2, .varint(let b)): out[key] = String(b != 0)
                case (3, .varint(let i)): out[key] = String(Int64(bitPattern: i))
                case (4, .fixed64(let d)): out[key] = String(Double(bitPattern: d))
                default: break
                }
            }
        }
        return out
    }
}
