import CallModel
import NIOCore

/// One message of AWS's binary event stream (`application/vnd.amazon.eventstream`):
///
/// ```
/// total length (4) | headers length (4) | prelude CRC-32 (4) | headers | payload | message CRC-32 (4)
/// ```
///
/// Integers are big-endian; the prelude CRC covers the first 8 bytes, the message CRC every
/// byte before it. A header is a name (1-byte length), a type byte and a typed value.
public struct AWSEventStreamMessage: Sendable, Equatable {
    /// A header value, by the wire's type byte (0 true … 9 uuid).
    public enum HeaderValue: Sendable, Equatable {
        case bool(Bool)
        case byte(Int8)
        case short(Int16)
        case int(Int32)
        case long(Int64)
        case bytes([UInt8])
        case string(String)
        /// Milliseconds since the epoch.
        case timestamp(Int64)
        case uuid([UInt8])
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: HeaderValue
        public init(_ name: String, _ value: HeaderValue) {
            self.name = name
            self.value = value
        }
    }

    public var headers: [Header]
    public var payload: ByteBuffer

    public init(headers: [Header], payload: ByteBuffer) {
        self.headers = headers
        self.payload = payload
    }

    /// A message with string headers, e.g. `[":message-type": "event", ":event-type": "messageStart"]`.
    public init(stringHeaders: [(String, String)], payload: String) {
        self.init(headers: stringHeaders.map { Header($0.0, .string($0.1)) }, payload: ByteBuffer(string: payload))
    }

    /// The value of the string header `name`.
    public func string(_ name: String) -> String? {
        for h in headers where h.name == name {
            if case .string(let s) = h.value { return s }
        }
        return nil
    }

    /// `:message-type` (`event`, `exception` or `error`).
    public var messageType: String? { string(":message-type") }
    /// `:event-type` of an event, `:exception-type` of an exception.
    public var eventType: String? { string(":event-type") }
    public var exceptionType: String? { string(":exception-type") }

    /// The message on the wire, both CRCs computed.
    public func encoded() -> ByteBuffer {
        var headerBytes = ByteBuffer()
        for h in headers {
            let name = Array(h.name.utf8)
            headerBytes.writeInteger(UInt8(name.count))
            headerBytes.writeBytes(name)
            switch h.value {
            case .bool(let b): headerBytes.writeInteger(UInt8(b ? 0 : 1))
            case .byte(let v): headerBytes.writeInteger(UInt8(2)); headerBytes.writeInteger(v)
            case .short(let v): headerBytes.writeInteger(UInt8(3)); headerBytes.writeInteger(v)
            case .int(let v): headerBytes.writeInteger(UInt8(4)); headerBytes.writeInteger(v)
            case .long(let v): headerBytes.writeInteger(UInt8(5)); headerBytes.writeInteger(v)
            case .bytes(let v):
                headerBytes.writeInteger(UInt8(6)); headerBytes.writeInteger(UInt16(v.count)); headerBytes.writeBytes(v)
            case .string(let s):
                let v = Array(s.utf8)
                headerBytes.writeInteger(UInt8(7)); headerBytes.writeInteger(UInt16(v.count)); headerBytes.writeBytes(v)
            case .timestamp(let v): headerBytes.writeInteger(UInt8(8)); headerBytes.writeInteger(v)
            case .uuid(let v): headerBytes.writeInteger(UInt8(9)); headerBytes.writeBytes(v.prefix(16))
            }
        }
        var out = ByteBuffer()
        let total = 16 + headerBytes.readableBytes + payload.readableBytes
        out.writeInteger(UInt32(total))
        out.writeInteger(UInt32(headerBytes.readableBytes))
        out.writeInteger(out.withUnsafeReadableBytes { CRC32.checksum($0) })
        out.writeBuffer(&headerBytes)
        var payload = self.payload
        out.writeBuffer(&payload)
        out.writeInteger(out.withUnsafeReadableBytes { CRC32.checksum($0) })
        return out
    }
}

/// Reads event stream messages from bytes that arrive split anywhere. A complete message is
/// handed out as soon as its last byte arrives; its payload is a slice of what was read (only a
/// message that spans reads is copied). A bad CRC, an impossible length or a malformed header
/// is a `.malformed` failure.
public struct AWSEventStreamDecoder {
    /// The largest message accepted (AWS's own limit is 16 MiB).
    public static let maxMessageBytes = 16 << 20
    private var pending: ByteBuffer?

    public init() {}

    /// Whether bytes of an unfinished message are held.
    public var hasPartialMessage: Bool { (pending?.readableBytes ?? 0) > 0 }

    /// Decodes every message completed by `bytes`, in order.
    public mutating func feed(
        _ bytes: ByteBuffer, _ each: (AWSEventStreamMessage) throws(UpstreamFailure) -> Void
    ) throws(UpstreamFailure) {
        var input: ByteBuffer
        if var p = pending {
            pending = nil
            var bytes = bytes
            p.writeBuffer(&bytes)
            input = p
        } else {
            input = bytes
        }
        while input.readableBytes >= 12 {
            let start = input.readerIndex
            let total = Int(input.getInteger(at: start, as: UInt32.self)!)
            let headersLength = Int(input.getInteger(at: start + 4, as: UInt32.self)!)
            let preludeCRC = input.getInteger(at: start + 8, as: UInt32.self)!
            let computed = input.withUnsafeReadableBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<8])) }
            guard computed == preludeCRC else { throw .malformed("AWS event stream prelude CRC mismatch") }
            guard total >= 16, total <= Self.maxMessageBytes, headersLength <= total - 16 else {
                throw .malformed("AWS event stream message of impossible length (\(total) bytes, headers \(headersLength))")
            }
            guard input.readableBytes >= total else { break }
            let messageCRC = input.getInteger(at: start + total - 4, as: UInt32.self)!
            let computedMessage = input.withUnsafeReadableBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(total - 4)])) }
            guard computedMessage == messageCRC else { throw .malformed("AWS event stream message CRC mismatch") }
            let headers = try Self.headers(input.getSlice(at: start + 12, length: headersLength)!)
            let payload = input.getSlice(at: start + 12 + headersLength, length: total - 16 - headersLength)!
            input.moveReaderIndex(forwardBy: total)
            try each(AWSEventStreamMessage(headers: headers, payload: payload))
        }
        if input.readableBytes > 0 { pending = input }
    }

    static func headers(_ bytes: ByteBuffer) throws(UpstreamFailure) -> [AWSEventStreamMessage.Header] {
        var b = bytes
        var out: [AWSEventStreamMessage.Header] = []
        func bad() -> UpstreamFailure { .malformed("AWS event stream message with a malformed header") }
        while b.readableBytes > 0 {
            guard let nameLength = b.readInteger(as: UInt8.self), let name = b.readString(length: Int(nameLength)),
                  let type = b.readInteger(as: UInt8.self) else { throw bad() }
            let value: AWSEventStreamMessage.HeaderValue
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2: guard let v = b.readInteger(as: Int8.self) else { throw bad() }; value = .byte(v)
            case 3: guard let v = b.readInteger(as: Int16.self) else { throw bad() }; value = .short(v)
            case 4: guard let v = b.readInteger(as: Int32.self) else { throw bad() }; value = .int(v)
            case 5: guard let v = b.readInteger(as: Int64.self) else { throw bad() }; value = .long(v)
            case 6:
                guard let n = b.readInteger(as: UInt16.self), let v = b.readBytes(length: Int(n)) else { throw bad() }
                value = .bytes(v)
            case 7:
                guard let n = b.readInteger(as: UInt16.self), let v = b.readString(length: Int(n)) else { throw bad() }
                value = .string(v)
            case 8: guard let v = b.readInteger(as: Int64.self) else { throw bad() }; value = .timestamp(v)
            case 9: guard let v = b.readBytes(length: 16) else { throw bad() }; value = .uuid(v)
            default: throw bad()
            }
            out.append(.init(name, value))
        }
        return out
    }
}
