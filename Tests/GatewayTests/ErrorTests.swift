import XCTest
import OpenAIWire
import SwitchboardTesting

/// Every failure answers OpenAI-shaped error JSON with the right status; client mistakes never 500.
final class ErrorTests: XCTestCase {
    static let chat = #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#

    func assertError(_ r: TestHTTPResponse, _ status: Int, type: String? = nil, contains text: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.body, file: file, line: line)
        guard let json = try? JSONValue.parse(r.body), let error = json["error"] else {
            return XCTFail("not OpenAI error JSON: \(r.body)", file: file, line: line)
        }
        XCTAssertNotNil(error["message"]?.stringValue, file: file, line: line)
        XCTAssertNotNil(error["type"]?.stringValue, file: file, line: line)
        XCTAssertNotNil(error["param"], "param must be present (maybe null)", file: file, line: line)
        XCTAssertNotNil(error["code"], file: file, line: line)
        if let type { XCTAssertEqual(error["type"]?.stringValue, type, file: file, line: line) }
        if let text { XCTAssertTrue(error["message"]?.stringValue?.contains(text) ?? false, "\(r.body) lacks \(text)", file: file, line: line) }
    }

    func testClientMistakes() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, mock_response: ok}
            general_settings:
              max_request_body_bytes: 4096
            """)
        assertError(try gateway.request("POST", "/v1/chat/completions", body: "{not json"), 400, type: "invalid_request_error", contains: "Invalid JSON")
        assertError(try gateway.request("POST", "/v1/chat/completions", body: "[1,2]"), 400, contains: "JSON object")
        assertError(try gateway.request("POST", "/v1/chat/completions", body: #"{"messages":[{"role":"user","content":"x"}]}"#), 400, contains: "'model'")
        assertError(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m"}"#), 400, contains: "'messages'")
        assertError(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","messages":[]}"#), 400, contains: "'messages'")
        assertError(try gateway.request("POST", "/v1/embeddings", body: #"{"model":"m"}"#), 400, contains: "'input'")
        assertError(try gateway.request("POST", "/v1/completions", body: #"{"model":"m"}"#), 400, contains: "'prompt'")
        let unknown = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"gpt-5-nope","messages":[{"role":"user","content":"x"}]}"#)
        assertError(unknown, 400, contains: "gpt-5-nope")
        XCTAssertTrue(unknown.body.contains("/v1/models"))
        assertError(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","stream":"yes","messages":[{"role":"user","content":"x"}]}"#), 400, contains: "stream")
        let big = #"{"model":"m","messages":[{"role":"user","content":""# + String(repeating: "x", count: 10_000) + #""}]}"#
        assertError(try gateway.request("POST", "/v1/chat/completions", body: big), 413, contains: "4096")
        assertError(try gateway.request("GET", "/v2/nothing"), 404)
        assertError(try gateway.request("GET", "/v1/chat/completions"), 405)
        let garbage = try gateway.client()
        try garbage.write("BLAH /x HTTP/9\r\n\r\n")
        assertError(try garbage.readResponse(), 400, contains: "Malformed HTTP")
        // The connection stays usable after a client error.
        let client = try gateway.client()
        assertError(try client.request("POST", "/v1/chat/completions", body: "{"), 400)
        XCTAssertEqual(try client.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        await gateway.shutdown()
    }

    /// Found by schemathesis (`unsupported_method`): a 405 must name the methods the route takes
    /// in `Allow` (RFC 9110 §15.5.6).
    func testMethodNotAllowedNamesTheAllowedMethods() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, mock_response: ok}
            general_settings:
              master_key: sk-allow
            """)
        for (method, path, allowed) in [("GET", "/v1/chat/completions", "POST"), ("TRACE", "/openai/deployments/m/embeddings", "POST"),
                                        ("DELETE", "/v1/models", "GET, HEAD"), ("POST", "/health/readiness", "GET, HEAD"),
                                        ("PUT", "/openapi.json", "GET, HEAD")] {
            let r = try gateway.request(method, path)
            assertError(r, 405, type: "invalid_request_error", contains: method)
            XCTAssertEqual(r.header("allow"), allowed, "\(method) \(path)")
        }
        let allowedMethod = try gateway.request("GET", "/v1/models", headers: [("Authorization", "Bearer sk-allow")])
        XCTAssertEqual(allowedMethod.status, 200)
        XCTAssertNil(allowedMethod.header("allow"))
        await gateway.shutdown()
    }

    func testIdleAndSlowClientConnectionsAreClosed() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, mock_response: ok}
            """, idleTimeout: 0.4)
        let idle = try gateway.client()
        XCTAssertEqual(try idle.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        let slow = try gateway.client()
        try slow.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"")
        let busy = try gateway.client()
        for _ in 0..<8 {
            try await Task.sleep(nanoseconds: 100_000_000)
            XCTAssertEqual(try busy.request("GET", "/health/liveliness").status, 200, "an active connection stays open")
        }
        XCTAssertThrowsError(try idle.request("GET", "/health/liveliness"), "an idle connection is closed after the idle timeout")
        assertError(try slow.readResponse(), 408, type: "timeout")
        await gateway.shutdown()
    }

    func testUpstreamErrorsKeepStatusAndMessage() async throws {
        let upstream = try await FakeOpenAIServer { request in
            switch request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue {
            case "limit":
                return .json(status: 429, body: #"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#)
            case "plain":
                return .json(status: 503, body: "upstream overloaded")
            case "slow":
                return .hang
            case "drop":
                return .close
            default:
                return FakeOpenAIServer.standardResponse(request)
            }
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k, timeout: 0.5}
              - model_name: down
                litellm_params: {model: openai/m, api_base: "http://127.0.0.1:\(freeLoopbackPort())/v1", api_key: k}
            router_settings: {num_retries: 0}   # one attempt each: what is under test is the answer
            """)
        func ask(_ content: String, model: String = "m") throws -> TestHTTPResponse {
            try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(content)"}]}"#)
        }
        let limited = try ask("limit")
        assertError(limited, 429, contains: "Rate limit reached for gpt-4o")
        XCTAssertEqual(try JSONValue.parse(limited.body)["error"]?["code"]?.stringValue, "rate_limit_exceeded")
        assertError(try ask("plain"), 503, type: "service_unavailable_error", contains: "upstream overloaded")
        assertError(try ask("slow"), 408, type: "timeout", contains: "timed out")
        assertError(try ask("drop"), 502, type: "api_connection_error")
        assertError(try ask("hi", model: "down"), 502, type: "api_connection_error", contains: "connect")
        XCTAssertEqual(try ask("hi").status, 200, "the gateway keeps serving after upstream failures")
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
