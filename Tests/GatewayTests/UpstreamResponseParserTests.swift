import XCTest
import CallModel
import NIOCore
@testable import Server

/// The upstream response parser, fed in every possible split.
final class UpstreamResponseParserTests: XCTestCase {
    /// Feeds `wire` in pieces of `step` bytes; returns (status, keepAlive, body, ended).
    func parse(_ wire: String, step: Int) throws -> (Int, Bool, String, Bool) {
        let (head, body, ended) = try parseHead(wire, step: step)
        return (head?.status ?? 0, head?.keepAlive ?? false, body, ended)
    }

    func parseHead(_ wire: String, step: Int) throws -> (UpstreamHead?, String, Bool) {
        var parser = UpstreamResponseParser()
        var head: UpstreamHead?
        var body = ""
        var ended = false
        let bytes = Array(wire.utf8)
        var i = 0
        while i < bytes.count {
            var piece = ByteBuffer(bytes: bytes[i..<min(i + step, bytes.count)])
            while let event = try parser.next(&piece) {
                switch event {
                case .head(let h): head = h
                case .body(let b): body += String(buffer: b)
                case .end: ended = true
                }
            }
            i += step
        }
        if !ended, case .end? = parser.connectionClosed().event { ended = true }
        return (head, body, ended)
    }

    func testHeadKeepsContentTypeRetryAfterAndRateLimits() throws {
        let wire = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 7\r\n"
            + "x-ratelimit-limit-requests: 500\r\nX-RateLimit-Remaining-Requests: 0\r\nx-ratelimit-remaining-tokens: 1234\r\n"
            + "x-ratelimit-reset-requests: 1m30s\r\nx-ratelimit-reset-tokens: 250ms\r\nx-unrelated: 1\r\nContent-Length: 2\r\n\r\n{}"
        for step in [1, 5, 1000] {
            let (head, body, ended) = try parseHead(wire, step: step)
            let h = try XCTUnwrap(head)
            XCTAssertEqual(h.status, 429)
            XCTAssertEqual(h.contentKind, .json)
            XCTAssertEqual(h.retryAfter, 7)
            XCTAssertEqual(h.rateLimit.limitRequests, 500)
            XCTAssertEqual(h.rateLimit.remainingRequests, 0)
            XCTAssertEqual(h.rateLimit.remainingTokens, 1234)
            XCTAssertNil(h.rateLimit.limitTokens)
            XCTAssertEqual(h.rateLimit.resetRequests, 90)
            XCTAssertEqual(try XCTUnwrap(h.rateLimit.resetTokens), 0.25, accuracy: 1e-9)
            XCTAssertEqual(body, "{}")
            XCTAssertTrue(ended)
        }
        let (sse, _, _) = try parseHead("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nretry-after-ms: 1500\r\ncontent-length: 0\r\n\r\n", step: 3)
        XCTAssertEqual(sse?.contentKind, .eventStream)
        XCTAssertEqual(sse?.retryAfter, 1.5)
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
