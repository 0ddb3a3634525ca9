import CloudAuth
import NIOCore
import NIOPosix
import Synchronization
import SwitchboardTesting
import XCTest

/// The callbacks' keep-alive client against a real loopback server: requests share one
/// connection, a connection the server closed while idle is replaced without losing the
/// request, `Connection: close` is honoured, and a server that never answers is an error.
final class HTTPKeepAliveClientTests: XCTestCase {
    func post(_ client: HTTPKeepAliveClient, _ server: FakeOpenAIServer, _ body: String) async throws(HTTPFetchError) -> HTTPFetchResponse {
        try await client.fetch(HTTPFetchRequest(
            method: "POST", url: "http://127.0.0.1:\(server.port)/v1/traces", headers: [("X-Test", "1")], body: ByteBuffer(string: body)))
    }

    func testRequestsShareOneConnection() async throws {
        let server = try await FakeOpenAIServer { request in .body(status: 200, contentType: "text/plain", body: "got " + request.body) }
        let client = HTTPKeepAliveClient(group: MultiThreadedEventLoopGroup.singleton)
        for i in 0..<5 {
            let answer = try await post(client, server, "batch \(i)")
            XCTAssertEqual(answer.status, 200)
            XCTAssertEqual(answer.text, "got batch \(i)")
        }
        XCTAssertEqual(server.requests.map(\.body), (0..<5).map { "batch \($0)" })
        XCTAssertEqual(server.acceptedConnections, 1, "one connection for five requests")
        XCTAssertTrue(server.requests.allSatisfy { $0.header("connection") == nil && $0.header("x-test") == "1" })
        XCTAssertEqual(server.requests.first?.header("content-length"), "7")
        client.shutdown()
        await server.shutdown()
    }

    /// The callbacks' senders POST from an event loop: the answer completes on that loop, and
    /// the connection is made there and reused from there.
    func testAFetchFromAnEventLoopCompletesOnItOverItsConnection() async throws {
        let server = try await FakeOpenAIServer { request in .body(status: 200, contentType: "text/plain", body: "got " + request.body) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let client = HTTPKeepAliveClient(group: group)
        let loop = group.next()
        for i in 0..<3 {
            let request = HTTPFetchRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/x", body: ByteBuffer(string: "\(i)"))
            let onLoop = try await loop.flatSubmit {
                client.fetch(request, on: loop).map { answer in (answer.text, loop.inEventLoop) }
            }.get()
            XCTAssertEqual(onLoop.0, "got \(i)")
            XCTAssertTrue(onLoop.1, "completed on the loop it was sent from")
        }
        XCTAssertEqual(server.acceptedConnections, 1)
        let bad = try? await client.fetch(HTTPFetchRequest(url: "ftp://x"), on: loop).get()
        XCTAssertNil(bad, "a bad URL fails the future")
        client.shutdown()
        try await group.shutdownGracefully()
        await server.shutdown()
    }

    func testAConnectionClosedWhileIdleIsReplacedAndTheRequestSentAgain() async throws {
        // The second request finds its connection closed by the server without an answer
        // (as an idle timeout does): it is sent again on a new connection.
        let n = Mutex(0)
        let server = try await FakeOpenAIServer { request in
            let i = n.withLock { v -> Int in defer { v += 1 }; return v }
            return i == 1 ? .close : .body(status: 200, contentType: "text/plain", body: "ok \(i)")
        }
        let client = HTTPKeepAliveClient(group: MultiThreadedEventLoopGroup.singleton)
        let first = try await post(client, server, "a")
        let second = try await post(client, server, "b")
        XCTAssertEqual(first.text, "ok 0")
        XCTAssertEqual(second.text, "ok 2")
        XCTAssertEqual(server.requests.map(\.body), ["a", "b", "b"])
        XCTAssertEqual(server.acceptedConnections, 2)
        client.shutdown()
        await server.shutdown()
    }

    func testConnectionCloseIsHonouredAndSilenceIsAnError() async throws {
        let server = try await FakeOpenAIServer { request in
            request.body == "never" ? .close : .body(status: 200, contentType: "text/plain", body: "ok", headers: [("Connection", "close")])
        }
        let client = HTTPKeepAliveClient(group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(5))
        let a = try await post(client, server, "a")
        let b = try await post(client, server, "b")
        XCTAssertEqual([a.status, b.status], [200, 200])
        XCTAssertEqual(server.acceptedConnections, 2, "the server said close: a new connection each")
        do {
            _ = try await post(client, server, "never")
            XCTFail("a new connection closed without an answer is an error, not a retry loop")
        } catch {
            XCTAssertTrue(error.description.contains("connection closed before an answer"), error.description)
        }
        XCTAssertEqual(server.requests.filter { $0.body == "never" }.count, 1)
        client.shutdown()
        await server.shutdown()
    }

    func testATimeoutIsAnError() async throws {
        let server = try await FakeOpenAIServer { _ in .hang }
        let client = HTTPKeepAliveClient(group: MultiThreadedEventLoopGroup.singleton, timeout: .milliseconds(300))
        do {
            _ = try await post(client, server, "x")
            XCTFail("expected a timeout")
        } catch {
            XCTAssertTrue(error.description.contains("no complete answer within 300 ms"), error.description)
        }
        client.shutdown()
        await server.shutdown()
    }
}
