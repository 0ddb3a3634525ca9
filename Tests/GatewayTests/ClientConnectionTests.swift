import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// What a client connection may cost the gateway: auth before the body, a connection cap, and
/// a slow reader that must not spoil the upstream pool for later calls.
final class ClientConnectionTests: XCTestCase {
    func testAnUnauthenticatedRequestIsRefusedFromItsHeadBeforeItsBody() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, mock_response: hi}
            general_settings: {master_key: sk-right}
            """)
        let client = try gateway.client(timeout: 5)
        // Announces 50 MB and sends none of it: the 401 must come anyway.
        try client.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n")
        let head = try client.readResponse()
        XCTAssertEqual(head.status, 401)
        XCTAssertEqual(try JSONValue.parse(head.body)["error"]?["type"]?.stringValue, "auth_error")

        // A wrong key with a small body: answered, and the connection stays usable.
        let keepAlive = try gateway.client()
        let wrong = try keepAlive.request("POST", "/v1/chat/completions", headers: [("Authorization", "Bearer sk-wrong")], body: #"{"model":"m","messages":[]}"#)
        XCTAssertEqual(wrong.status, 401)
        let right = try keepAlive.request("POST", "/v1/chat/completions", headers: [("Authorization", "Bearer sk-right")], body: #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(right.status, 200)
        // Unknown routes and wrong methods are answered from the head too.
        XCTAssertEqual(try keepAlive.request("POST", "/v1/nothing", headers: [("Authorization", "Bearer sk-right")], body: "{}").status, 404)
        XCTAssertEqual(try keepAlive.request("GET", "/v1/chat/completions", headers: [("Authorization", "Bearer sk-right")]).status, 405)
        XCTAssertEqual(try keepAlive.request("GET", "/v1/models", headers: [("Authorization", "Bearer sk-right")]).status, 200)
        await gateway.shutdown()
    }

    func testConnectionsOverTheCapGet503UntilOneCloses() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, mock_response: hi}
            """, maxConnections: 2)
        let a = try gateway.client()
        let b = try gateway.client()
        XCTAssertEqual(try a.request("GET", "/v1/models").status, 200)
        XCTAssertEqual(try b.request("GET", "/v1/models").status, 200)
        let refused = try gateway.client().readResponse()
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("retry-after"), "1")
        XCTAssertEqual(try JSONValue.parse(refused.body)["error"]?["type"]?.stringValue, "service_unavailable_error")
        a.disconnect()
        let deadline = Date().addingTimeInterval(10)
        var status = 0
        while Date() < deadline {
            status = (try? gateway.client().request("GET", "/v1/models").status) ?? 0
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(status, 200, "a slot frees when a connection closes")
        await gateway.shutdown()
    }

    func testASlowReaderDoesNotLeaveAPausedConnectionInThePool() async throws {
        // A stream far larger than socket buffers: the gateway must pause reading the upstream
        // while the client does not read, and the connection must go back to the pool reading.
        let event = "data: " + String(repeating: "y", count: 60_000) + "\n\n"
        let upstream = try await FakeOpenAIServer { request in
            if request.json?["stream"]?.boolValue == true {
                return .sse(events: Array(repeating: event, count: 200) + ["data: [DONE]\n\n"])
            }
            return .json(status: 200, body: FakeOpenAIServer.chatCompletion(model: "m", content: "after"))
        }
        let gateway = try await GatewayHarness(yaml: CallModelEndToEndTests.config(upstream))
        let slow = try gateway.client(timeout: 20)
        try slow.sendRequest("POST", "/v1/chat/completions", body: CallModelEndToEndTests.chat("x", stream: true))
        // Let the buffers fill, then read it all.
        try await Task.sleep(for: .milliseconds(500))
        let response = try slow.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.body.hasSuffix("data: [DONE]\n\n"))
        XCTAssertEqual(response.body.utf8.count, 200 * event.utf8.count + 14)
        // Later calls reuse pooled connections: none may hang.
        for _ in 0..<6 {
            let r = try gateway.client(timeout: 5).request("POST", "/v1/chat/completions", body: CallModelEndToEndTests.chat("x"))
            XCTAssertEqual(r.status, 200)
        }
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
