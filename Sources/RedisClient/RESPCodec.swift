import CHiredis
import NIOCore

/// hiredis as the RESP codec: its command formatter writes requests, its reply reader parses
/// answers. Nothing here touches a socket (the NIO channel does).
enum RESPCommand {
    /// `args` as one RESP command (an array of bulk strings), appended to `buffer`.
    ///
    /// Written here rather than by hiredis's `redisFormatCommandArgv`: that needs the arguments
    /// as C strings and returns a malloc'd copy, which cost four allocations and two copies per
    /// command on the request path (each admission is one `EVALSHA`); the format is a few
    /// lines. hiredis stays the reply parser (``RESPReader``), the part that is easy to get wrong.
    static func write(_ args: [String], to buffer: inout ByteBuffer) {
        var size = 16
        for a in args { size += a.utf8.count + 16 }
        buffer.reserveCapacity(minimumWritableBytes: size)
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(args.count, to: &buffer)
        buffer.writeStaticString("\r\n")
        for a in args {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimal(a.utf8.count, to: &buffer)
            buffer.writeStaticString("\r\n")
            buffer.writeString(a)
            buffer.writeStaticString("\r\n")
        }
    }

    /// A non-negative integer in decimal, without building a String.
    static func writeDecimal(_ value: Int, to buffer: inout ByteBuffer) {
        if value < 10 {
            buffer.writeInteger(UInt8(48 + value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        var n = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { out in
            while v > 0 {
                out[23 - n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: out[(24 - n)...]))
        }
    }
}

/// hiredis's incremental reply reader: feed it bytes as they arrive, take whole replies out.
/// Used on one event loop only.
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        reader = redisReaderCreate()
    }

    deinit { redisReaderFree(reader) }

    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK { throw .protocolError(errorText) }
    }

    /// The next whole reply, or `nil` when more bytes are needed.
    func next() throws(RedisError) -> RedisValue? {
        var reply: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &reply) == REDIS_OK else { throw .protocolError(errorText) }
        guard let reply else { return nil }
        defer { freeReplyObject(reply) }
        return Self.value(reply.assumingMemoryBound(to: redisReply.self))
    }

    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func value(_ r: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let reply = r.pointee
        func text() -> String {
            guard let str = reply.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(reply.len)), as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(Int(reply.integer))
        case REDIS_REPLY_ARRAY:
            var out: [RedisValue] = []
            out.reserveCapacity(Int(reply.elements))
            for i in 0..<Int(reply.elements) {
                if let e = reply.element[i] { out.append(value(e)) }
            }
            return .array(out)
        default: return .null
        }
    }
}
