import CallModel
import Logging
import NIOCore
import NIOEmbedded
import Providers
import XCTest
@testable import Server

/// The upstream connection in an `EmbeddedChannel`: what it tells its delegate, and the state
/// it returns to the pool in.
final class UpstreamConnectionTests: XCTestCase {
    final class Delegate: UpstreamResponseDelegate {
        var events: [String] = []
        var onBody: (() -> Void)?
        func upstreamHead(_ head: UpstreamHead) { events.append("head \(head.status)") }
        func upstreamBody(_ buffer: ByteBuffer) {
            events.append("body \(String(buffer: buffer))")
            onBody?()
        }
        func upstreamEnd() { events.append("end") }
        func upstreamFailed(_ failure: ConnectionFailure, beforeResponse: Bool) { events.append("failed \(failure.kind) \(beforeResponse)") }
        func upstreamMalformed(_ reason: String) { events.append("malformed") }
    }

    func setUp(_ loop: EmbeddedEventLoop) throws -> (EmbeddedChannel, UpstreamConnection, UpstreamPool) {
        let pool = UpstreamPool(eventLoop: loop, tls: ClientTLS(logger: Logger(label: "test"), loadNow: false))
        let target = UpstreamTarget(tls: false, host: "127.0.0.1", port: 1)
        let conn = UpstreamConnection(target: target, pool: pool)
        let channel = EmbeddedChannel(handler: conn, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, conn, pool)
    }

    static var request: UpstreamRequest { UpstreamRequest(
        target: UpstreamTarget(tls: false, host: "127.0.0.1", port: 1), uri: "/v1/chat/completions", headers: [:],
        body: ByteBuffer(string: "{}")) }

    func testAConnectionPausedBySlowClientReturnsToThePoolReading() throws {
        let loop = EmbeddedEventLoop()
        let (channel, conn, pool) = try setUp(loop)
        let delegate = Delegate()
        // The client cannot take more: reading is paused on the first body bytes...
        delegate.onBody = { conn.setReading(false) }
        conn.send(Self.request, to: delegate)
        // ...and the response's end arrives in the same read.
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"))
        XCTAssertEqual(delegate.events, ["head 200", "body hello", "end"])
        XCTAssertFalse(conn.readingPaused, "the pooled connection must read again, or the next call on it hangs")
        XCTAssertTrue(pool.takeIdle(conn.target) === conn)
        _ = try? channel.finish()
    }

    func testUpstreamFailuresAreClassified() throws {
        let loop = EmbeddedEventLoop()
        let (channel, conn, _) = try setUp(loop)
        let delegate = Delegate()
        conn.send(Self.request, to: delegate)
        try channel.writeInbound(ByteBuffer(string: "SSH-2.0-nope\r\n\r\n"))
        XCTAssertEqual(delegate.events, ["malformed"])

        let (closing, conn2, _) = try setUp(loop)
        let delegate2 = Delegate()
        conn2.send(Self.request, to: delegate2)
        try closing.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\npart"))
        closing.pipeline.fireChannelInactive()
        XCTAssertEqual(delegate2.events, ["head 200", "body part", "failed closed false"])
        _ = try? channel.finish()
    }

    func testErrorsAreClassifiedByKind() {
        XCTAssertEqual(ConnectionFailure(classifying: IOError(errnoCode: ECONNREFUSED, reason: "connect")).kind, .refused)
        XCTAssertEqual(ConnectionFailure(classifying: IOError(errnoCode: ECONNRESET, reason: "read")).kind, .reset)
        XCTAssertEqual(ConnectionFailure(classifying: ChannelError.connectTimeout(.seconds(1))).kind, .timeout)
    }
}
