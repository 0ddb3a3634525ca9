#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response read by ``TestHTTPClient``.
public struct TestHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: String
    /// For chunked bodies: each chunk as it was framed on the wire.
    public var chunks: [String]

    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }
}

public struct TestHTTPError: Error, CustomStringConvertible {
    public var description: String
}

/// A deliberately plain HTTP/1.1 client over a blocking loopback socket, so gateway tests see
/// exactly the bytes on the wire (status line, headers, chunk framing).
public final class TestHTTPClient {
    let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; reads time out after `timeout` seconds.
    public init(port: Int, timeout: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestHTTPError(description: "socket failed") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw TestHTTPError(description: "connect to \(port) failed") }
    }

    deinit { close(fd) }

    /// Closes the connection now (to test client disconnects).
    public func disconnect() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Writes raw bytes.
    public func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestHTTPError(description: "send failed") }
            sent += n
        }
    }

    /// Sends one request and reads its whole response.
    public func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil
    ) throws -> TestHTTPResponse {
        try sendRequest(method, path, headers: headers, body: body)
        return try readResponse()
    }

    public func sendRequest(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) throws {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { text += "Content-Type: application/json\r\n" }
            text += "Content-Length: \(body.utf8.count)\r\n"
        }
        text += "\r\n" + (body ?? "")
        try write(text)
    }

    /// Reads one response (content-length, chunked, or until close).
    public func readResponse() throws -> TestHTTPResponse {
        var response = try readHead()
        while response.status == 100 { response = try readHead() }
        var result = response
        if let length = response.header("content-length").flatMap({ Int($0) }) {
            result.body = String(decoding: try readBytes(length), as: UTF8.self)
        } else if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while let chunk = try readChunk() {
                result.chunks.append(chunk)
                result.body += chunk
            }
        } else {
            var all: [UInt8] = pending
            pending = []
            while let more = try readSome() { all += more }
            result.body = String(decoding: all, as: UTF8.self)
        }
        return result
    }

    /// Reads the next chunk of a chunked body (`nil` at its end).
    public func readChunk() throws -> String? {
        let sizeLine = try readLine()
        guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw TestHTTPError(description: "bad chunk size \(sizeLine)") }
        if size == 0 { _ = try readLine(); return nil }
        let chunk = String(decoding: try readBytes(size), as: UTF8.self)
        _ = try readLine()
        return chunk
    }

    /// Reads the status line and headers of a response, leaving the body unread.
    public func readHead() throws -> TestHTTPResponse {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestHTTPError(description: "bad status line: \(statusLine)") }
        var headers: [(String, String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces))
            }
        }
        return TestHTTPResponse(status: status, headers: headers, body: "", chunks: [])
    }

    private func readSome() throws -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return nil }
        guard n > 0 else { throw TestHTTPError(description: "read failed or timed out (errno \(errno))") }
        return Array(buf[0..<n])
    }

    private func readLine() throws -> String {
        while true {
            if let i = pending.firstIndex(of: 0x0A) {
                var line = Array(pending[..<i])
                pending.removeFirst(i + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard let more = try readSome() else { throw TestHTTPError(description: "connection closed") }
            pending += more
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while pending.count < count {
            guard let more = try readSome() else { throw TestHTTPError(description: "connection closed") }
            pending += more
        }
        let out = Array(pending[..<count])
        pending.removeFirst(count)
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
