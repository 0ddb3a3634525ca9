import CloudAuth
import NIOCore
import SwitchboardTesting
import XCTest

final class HTTPFetcherTests: XCTestCase {
    func testMethodsHeadersAndBodiesRoundTrip() async throws {
        let server = try await FakeOpenAIServer { request in
            .body(status: request.method == "PUT" ? 201 : 200, contentType: "text/plain",
                  body: "\(request.method) \(request.uri) \(request.header("x-test") ?? "-") \(request.body)", headers: [("X-Answer", "yes")])
        }
        defer { Task { await server.shutdown() } }
        let fetcher = HTTPFetcher()
        let base = "http://127.0.0.1:\(server.port)"
        let get = try await fetcher.get(base + "/a?b=c", headers: [("X-Test", "1")])
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(get.text, "GET /a?b=c 1 ")
        XCTAssertEqual(get.header("x-answer"), "yes")
        let post = try await fetcher.post(base + "/p", body: ByteBuffer(string: "hello"))
        XCTAssertEqual(post.text, "POST /p - hello")
        let put = try await fetcher.put(base + "/t", headers: [("X-Test", "2")])
        XCTAssertEqual(put.status, 201)
        XCTAssertEqual(put.text, "PUT /t 2 ")
        XCTAssertEqual(server.requests.first?.header("host"), "127.0.0.1:\(server.port)")
        XCTAssertEqual(server.requests.last?.header("content-length"), "0")
    }

    func testTimeoutAndRefusedConnectionAreErrors() async throws {
        let server = try await FakeOpenAIServer { _ in .hang }
        let fetcher = HTTPFetcher(timeout: .milliseconds(300))
        do {
            _ = try await fetcher.get("http://127.0.0.1:\(server.port)/")
            XCTFail("expected a timeout")
        } catch {
            XCTAssertTrue(error.description.contains("no complete answer within 300 ms"), error.description)
        }
        let port = server.port
        await server.shutdown()
        do {
            _ = try await fetcher.get("http://127.0.0.1:\(port)/")
            XCTFail("expected a refused connection")
        } catch {
            XCTAssertTrue(error.description.contains("cannot connect to http://127.0.0.1:\(port)"), error.description)
        }
        do {
            _ = try await fetcher.get("ftp://x/")
            XCTFail("expected a URL error")
        } catch {
            XCTAssertEqual(error.description, "not an http(s) URL")
        }
    }

    func testAnswerLargerThanTheCapFails() async throws {
        let server = try await FakeOpenAIServer { _ in .body(status: 200, contentType: "text/plain", body: String(repeating: "x", count: 5000)) }
        defer { Task { await server.shutdown() } }
        do {
            _ = try await HTTPFetcher(maxBodyBytes: 1000).get("http://127.0.0.1:\(server.port)/")
            XCTFail("expected the cap")
        } catch {
            XCTAssertTrue(error.description.contains("larger than 1000 bytes"), error.description)
        }
    }

    func testURLParsing() {
        let url = HTTPURL("https://user@[::1]:8443/p/q?x=1")
        XCTAssertEqual(url?.host, "::1")
        XCTAssertEqual(url?.port, 8443)
        XCTAssertEqual(url?.hostHeader, "[::1]:8443")
        XCTAssertEqual(url?.path, "/p/q")
        XCTAssertEqual(url?.query, "x=1")
        XCTAssertEqual(HTTPURL("http://h?x")?.pathAndQuery, "/?x")
        XCTAssertEqual(HTTPURL("http://h")?.hostHeader, "h")
        XCTAssertNil(HTTPURL("h:80/x"))
    }
}
