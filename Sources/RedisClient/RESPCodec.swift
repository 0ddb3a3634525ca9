import CHiredis
import NIOCore

/// hiredis as the RESP codec: its command formatter writes requests, its reply reader parses
/// answers. Nothing here touches a socket (the NIO channel does).
enum RESPCommand {
    /// `args` formatted as one RESP command (`redisFormatCommandArgv`), appended to `buffer`.
    static func write(_ args: [String], to buffer: inout ByteBuffer) {
        var bytes: [UInt8] = []
        var lengths: [Int] = []
        lengths.reserveCapacity(args.count)
        for a in args {
            bytes.append(contentsOf: a.utf8)
            lengths.append(a.utf8.count)
        }
        bytes.append(0)  // never empty, so the base address exists
        bytes.withUnsafeBufferPointer { base in
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(args.count)
            var offset = 0
            let raw = UnsafeRawPointer(base.baseAddress!)
            for n in lengths {
                pointers.append((raw + offset).assumingMemoryBound(to: CChar.self))
                offset += n
            }
            var target: UnsafeMutablePointer<CChar>?
            let length = pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lens in
                    redisFormatCommandArgv(&target, Int32(args.count), argv.baseAddress, lens.baseAddress)
                }
            }
            guard let target, length > 0 else { return }
            buffer.writeBytes(UnsafeRawBufferPointer(start: target, count: Int(length)))
            redisFreeCommand(target)
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
