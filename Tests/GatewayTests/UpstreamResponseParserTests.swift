import XCTest
import NIOCore
@testable import Server

/// The upstream response parser, fed in every possible split.
final class UpstreamResponseParserTests: XCTestCase {
    /// Feeds `wire` in pieces of `step` bytes; returns (status, keepAlive, body, ended).
    func parse(_ wire: String, step: Int) throws -> (Int, Bool, String, Bool) {
        var parser = UpstreamResponseParser()
        var status = 0
        var keepAlive = false
        var body = ""
        var ended = false
        let bytes = Array(wire.utf8)
        var i = 0
        while i < bytes.count {
            var piece = ByteBuffer(bytes: bytes[i..<min(i + step, bytes.count)])
            while let event = try parser.next(&piece) {
                switch event {
                case .head(let s, let k): status = s; keepAlive = k
                case .body(let b): body += String(buffer: b)
                case .end: ended = true
                }
            }
            i += step
        }
        if !ended, case .end? = parser.connectionClosed().event { ended = true }
        return (status, keepAlive, body, ended)
    }

    func testContentLengthChunkedAndCloseDelimitedInAnySplit() throws {
        let cases: [(String, Int, Bool, String)] = [
            ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\n\r\n{\"a\":\"bcd\"}", 200, true, #"{"a":"bcd"}"#),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\ndata:\r\n7\r\n hello\n\r\n0\r\nX-Trailer: 1\r\n\r\n", 200, true, "data: hello\n"),
            ("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 429, false, "{}"),
            ("HTTP/1.0 200 OK\r\n\r\nuntil close", 200, false, "until close"),
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, true, ""),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, true, ""),
        ]
        for (wire, status, keepAlive, body) in cases {
            for step in [1, 2, 3, 7, 16, 1000] {
                let (s, k, b, ended) = try parse(wire, step: step)
                XCTAssertEqual(s, status, "\(wire) step \(step)")
                XCTAssertEqual(k, keepAlive, "\(wire) step \(step)")
                XCTAssertEqual(b, body, "\(wire) step \(step)")
                XCTAssertTrue(ended, "\(wire) step \(step)")
            }
        }
    }

    func testTruncatedResponseIsNotComplete() throws {
        var parser = UpstreamResponseParser()
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        while try parser.next(&input) != nil {}
        XCTAssertFalse(parser.connectionClosed().completed)
    }

    func testMalformedResponsesAreRejected() {
        for bad in ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"] {
            var parser = UpstreamResponseParser()
            var input = ByteBuffer(string: bad)
            XCTAssertThrowsError(try { while try parser.next(&input) != nil {} }(), bad)
        }
        var parser = UpstreamResponseParser()
        var input = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab")
        XCTAssertThrowsError(try { while try parser.next(&input) != nil {} }(), "bytes after the response")
    }
}
