import CallModel
import NIOCore

/// Incremental HTTP/1.1 response parser for upstream connections.
///
/// Reads only what the relay needs from the head (status, framing, content type, `Retry-After`
/// and the `x-ratelimit-*` headers, see ``UpstreamHead``) straight from the bytes, builds no
/// header objects, and
/// hands the body on as slices of the buffers read from the socket (chunk framing removed).
struct UpstreamResponseParser {
    enum Event {
        case head(UpstreamHead)
        case body(ByteBuffer)
        case end
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// The body is complete; `.end` is next.
        case ending
        case done
    }

    private var state = State.head
    /// Bytes of an incomplete head or framing line.
    private var pending: ByteBuffer?
    static let maxHeadBytes = 64 * 1024

    /// Prepares for the next response on the same connection.
    mutating func reset() {
        state = .head
        pending = nil
    }

    /// The next event that `input` completes, consuming what it used; `nil` when more bytes are
    /// needed. Pull-style, so a caller may start the next request on this connection as soon
    /// as it sees `.end`. Bytes after a complete response are a protocol error.
    mutating func next(_ input: inout ByteBuffer) throws(ParseError) -> Event? {
        while true {
            switch state {
            case .head:
                guard input.readableBytes > 0, let head = try takeHead(&input) else { return nil }
                if let event = try parseHead(head) { return event }
            case .fixed(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let n = min(remaining, input.readableBytes)
                state = n == remaining ? .ending : .fixed(remaining: remaining - n)
                return .body(input.readSlice(length: n)!)
            case .chunkSize:
                guard let line = try takeLine(&input) else { return nil }
                let text = line.withUnsafeReadableBytes { bytes in
                    String(decoding: bytes.prefix(while: { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") }), as: UTF8.self)
                }
                guard let size = Int(text, radix: 16), size >= 0 else { throw ParseError(description: "bad chunk size '\(text)'") }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard input.readableBytes > 0 else { return nil }
                let n = min(remaining, input.readableBytes)
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
                return .body(input.readSlice(length: n)!)
            case .chunkDataEnd:
                guard let line = try takeLine(&input) else { return nil }
                guard line.readableBytes == 0 else { throw ParseError(description: "missing CRLF after chunk") }
                state = .chunkSize
            case .trailers:
                guard let line = try takeLine(&input) else { return nil }
                if line.readableBytes == 0 { state = .ending }
            case .untilClose:
                guard input.readableBytes > 0 else { return nil }
                let all = input
                input.moveReaderIndex(to: input.writerIndex)
                return .body(all)
            case .ending:
                state = .done
                return .end
            case .done:
                guard input.readableBytes == 0 else { throw ParseError(description: "unexpected bytes after the response") }
                return nil
            }
        }
    }

    /// The connection closed. Returns `.end` when the close completes the response (it had no
    /// length), `nil` otherwise; `completed` tells whether the response had already ended.
    mutating func connectionClosed() -> (event: Event?, completed: Bool) {
        switch state {
        case .untilClose, .ending:
            state = .done
            return (.end, true)
        case .done:
            return (nil, true)
        default:
            return (nil, false)
        }
    }

    // MARK: Head

    /// The head's lines, each ending with CRLF (the blank line consumed), once complete.
    private mutating func takeHead(_ input: inout ByteBuffer) throws(ParseError) -> ByteBuffer? {
        if pending == nil, let end = Self.find(crlfcrlf: input) {
            let head = input.readSlice(length: end + 2)!
            input.moveReaderIndex(forwardBy: 2)
            return head
        }
        var buffered = pending ?? ByteBuffer()
        let before = buffered.readableBytes
        buffered.writeImmutableBuffer(input)
        if let end = Self.find(crlfcrlf: buffered) {
            let head = buffered.readSlice(length: end + 2)!
            input.moveReaderIndex(forwardBy: end + 4 - before)
            pending = nil
            return head
        }
        guard buffered.readableBytes <= Self.maxHeadBytes else { throw ParseError(description: "response head larger than 64 KiB") }
        pending = buffered
        input.moveReaderIndex(to: input.writerIndex)
        return nil
    }

    /// Reads a complete head; `nil` for an interim (1xx) head, which the real one follows.
    private mutating func parseHead(_ head: ByteBuffer) throws(ParseError) -> Event? {
        var head = head
        guard let statusLine = Self.readLine(&head) else { throw ParseError(description: "empty response head") }
        let (minor, status) = try Self.parseStatusLine(statusLine)
        var result = UpstreamHead(status: status, keepAlive: minor >= 1)
        var contentLength: Int?
        var chunked = false
        while let line = Self.readLine(&head) {
            line.withUnsafeReadableBytes { bytes in
                guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
                let name = UnsafeRawBufferPointer(rebasing: bytes[..<colon])
                var v = colon + 1
                while v < bytes.count, bytes[v] == 0x20 || bytes[v] == 0x09 { v += 1 }
                var e = bytes.count
                while e > v, bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 { e -= 1 }
                let value = UnsafeRawBufferPointer(rebasing: bytes[v..<e])
                switch name.count {
                case 14 where Self.equalsIgnoringCase(name, "content-length"):
                    contentLength = Self.decimal(value)
                case 17 where Self.equalsIgnoringCase(name, "transfer-encoding"):
                    chunked = Self.containsIgnoringCase(value, "chunked")
                case 10 where Self.equalsIgnoringCase(name, "connection"):
                    if Self.containsIgnoringCase(value, "close") { result.keepAlive = false }
                    if Self.containsIgnoringCase(value, "keep-alive") { result.keepAlive = true }
                case 12 where Self.equalsIgnoringCase(name, "content-type"):
                    result.contentKind = Self.contentKind(value)
                case 11 where Self.equalsIgnoringCase(name, "retry-after"):
                    if let seconds = Self.decimal(value) { result.retryAfter = Double(seconds) }
                case 14 where Self.equalsIgnoringCase(name, "retry-after-ms"):
                    if let ms = Self.decimal(value) { result.retryAfter = Double(ms) / 1000 }
                case 24...:
                    Self.rateLimitHeader(name, value, into: &result.rateLimit)
                default:
                    break
                }
            }
        }
        if (100..<200).contains(status) && status != 101 {
            state = .head
            return nil
        }
        if status == 204 || status == 304 {
            state = .ending
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            state = contentLength == 0 ? .ending : .fixed(remaining: contentLength)
        } else {
            state = .untilClose
        }
        return .head(result)
    }

    private static func contentKind(_ value: UnsafeRawBufferPointer) -> UpstreamHead.ContentKind {
        if containsIgnoringCase(value, "text/event-stream") { return .eventStream }
        if containsIgnoringCase(value, "ndjson") { return .ndjson }
        if containsIgnoringCase(value, "vnd.amazon.eventstream") { return .awsEventStream }
        if containsIgnoringCase(value, "json") { return .json }
        return .other
    }

    /// `x-ratelimit-{limit,remaining}-{requests,tokens}` and `x-ratelimit-reset-{requests,tokens}`.
    private static func rateLimitHeader(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, into r: inout RateLimitHeaders) {
        guard startsWithIgnoringCase(name, "x-ratelimit-") else { return }
        let rest = UnsafeRawBufferPointer(rebasing: name[12...])
        if equalsIgnoringCase(rest, "limit-requests") { r.limitRequests = decimal(value) }
        else if equalsIgnoringCase(rest, "limit-tokens") { r.limitTokens = decimal(value) }
        else if equalsIgnoringCase(rest, "remaining-requests") { r.remainingRequests = decimal(value) }
        else if equalsIgnoringCase(rest, "remaining-tokens") { r.remainingTokens = decimal(value) }
        else if equalsIgnoringCase(rest, "reset-requests") { r.resetRequests = duration(value) }
        else if equalsIgnoringCase(rest, "reset-tokens") { r.resetTokens = duration(value) }
    }

    /// Seconds from OpenAI's reset durations: `20ms`, `1s`, `6m0s`, `1h2m3.5s`, or a bare number of seconds.
    static func duration(_ value: UnsafeRawBufferPointer) -> Double? {
        var total = 0.0
        var number = 0.0
        var fraction = 0.0
        var scale = 0.0
        var sawDigit = false
        var i = 0
        while i < value.count {
            let c = value[i]
            if (0x30...0x39).contains(c) {
                if scale > 0 { fraction += Double(c - 0x30) * scale; scale /= 10 } else { number = number * 10 + Double(c - 0x30) }
                sawDigit = true
            } else if c == UInt8(ascii: ".") {
                scale = 0.1
            } else {
                guard sawDigit else { return nil }
                let n = number + fraction
                switch c | 0x20 {
                case UInt8(ascii: "h"): total += n * 3600
                case UInt8(ascii: "s"): total += n
                case UInt8(ascii: "m"):
                    if i + 1 < value.count, value[i + 1] | 0x20 == UInt8(ascii: "s") { total += n / 1000; i += 1 } else { total += n * 60 }
                default: return nil
                }
                number = 0; fraction = 0; scale = 0; sawDigit = false
            }
            i += 1
        }
        if sawDigit { total += number + fraction }
        return total
    }

    private static func startsWithIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        bytes.count >= word.utf8CodeUnitCount && equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[..<word.utf8CodeUnitCount]), word)
    }

    private static func parseStatusLine(_ line: ByteBuffer) throws(ParseError) -> (minor: Int, status: Int) {
        let parsed: (Int, Int)? = line.withUnsafeReadableBytes { b in
            // "HTTP/1.1 200 OK"
            guard b.count >= 12, b[0] == UInt8(ascii: "H"), b[4] == UInt8(ascii: "/"), b[8] == 0x20 else { return nil }
            let minor = Int(b[7]) - 0x30
            var status = 0
            for i in 9..<12 {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                status = status * 10 + Int(b[i] - 0x30)
            }
            return (minor, status)
        }
        guard let parsed else { throw ParseError(description: "bad status line '\(String(buffer: line).prefix(64))'") }
        return parsed
    }

    // MARK: Lines

    /// A CRLF-terminated framing line (without CRLF), once complete.
    private mutating func takeLine(_ input: inout ByteBuffer) throws(ParseError) -> ByteBuffer? {
        if pending == nil, let line = Self.readLine(&input) { return line }
        var source = pending ?? ByteBuffer()
        let before = source.readableBytes
        source.writeImmutableBuffer(input)
        let start = source.readerIndex
        if let line = Self.readLine(&source) {
            input.moveReaderIndex(forwardBy: source.readerIndex - start - before)
            pending = nil
            return line
        }
        guard source.readableBytes <= 4096 else { throw ParseError(description: "framing line too long") }
        pending = source
        input.moveReaderIndex(to: input.writerIndex)
        return nil
    }

    /// Reads one CRLF-terminated line from `buffer` when it holds a whole one.
    private static func readLine(_ buffer: inout ByteBuffer) -> ByteBuffer? {
        guard let lf = buffer.readableBytesView.firstIndex(of: 0x0A) else { return nil }
        let length = lf - buffer.readerIndex
        var line = buffer.readSlice(length: length + 1)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == 0x0D {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        return line
    }

    private static func find(crlfcrlf buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { b in
            guard b.count >= 4 else { return nil }
            for i in 0...(b.count - 4) where b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A {
                return i
            }
            return nil
        }
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let w = word.utf8Start
        for i in 0..<bytes.count where bytes[i] | 0x20 != w[i] | 0x20 { return false }
        return true
    }

    private static func containsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.count >= n else { return false }
        for start in 0...(bytes.count - n) where equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + n)]), word) {
            return true
        }
        return false
    }

    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var v = 0
        for c in bytes {
            guard (0x30...0x39).contains(c) else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }
}
