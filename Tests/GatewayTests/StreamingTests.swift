import XCTest
import OpenAIWire
import SwitchboardTesting

/// `stream: true`: SSE relayed chunk by chunk, usage chunk, cancellation on disconnect.
final class StreamingTests: XCTestCase {
    func testStreamIsRelayedChunkByChunkWithoutBuffering() async throws {
        let upstream = try await FakeOpenAIServer { request in
            let events = FakeOpenAIServer.streamEvents(model: "m", words: ["one", " two", " three"], includeUsage: false)
            return .sse(events: events, delay: .milliseconds(300))
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
            """)
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-type"), "text/event-stream")
        XCTAssertEqual(head.header("x-litellm-model-group"), "m")
        let first = try XCTUnwrap(try client.readChunk())
        let firstAt = Date().timeIntervalSince(started)
        XCTAssertTrue(first.hasPrefix("data: {"), first)
        var rest: [String] = []
        while let chunk = try client.readChunk() { rest.append(chunk) }
        let total = Date().timeIntervalSince(started)
        XCTAssertLessThan(firstAt, 0.25, "the first event must reach the client before the upstream sends the next")
        XCTAssertGreaterThan(total, 1.2, "the upstream spaced 5 events 300 ms apart")
        let all = ([first] + rest).joined()
        XCTAssertTrue(all.hasSuffix("data: [DONE]\n\n"))
        let contents = all.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.compactMap {
            try? JSONValue.parse(String($0.dropFirst(6)))["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue
        }
        XCTAssertEqual(contents.joined(), "one two three")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testIncludeUsageEndsWithUsageChunk() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
              - model_name: mock
                litellm_params: {model: openai/m, mock_response: "a b c"}
            """)
        for model in ["m", "mock"] {
            let r = try gateway.request("POST", "/chat/completions", body: #"{"model":"\#(model)","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}"#)
            XCTAssertEqual(r.status, 200)
            let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            XCTAssertEqual(events.last, "data: [DONE]", model)
            let usageEvent = try JSONValue.parse(String(events[events.count - 2].dropFirst(6)))
            XCTAssertEqual(usageEvent["choices"], .array([]), model)
            XCTAssertNotNil(usageEvent["usage"]?["total_tokens"]?.intValue, model)
        }
        XCTAssertEqual(upstream.requests.last?.json?["stream_options"]?["include_usage"]?.boolValue, true)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testStreamErrorsBeforeAndDuringTheStream() async throws {
        let upstream = try await FakeOpenAIServer { request in
            if request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue == "limit" {
                return .json(status: 429, body: #"{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#)
            }
            // Two events, then the stream stalls past the deployment's stream_timeout.
            return .sse(events: Array(FakeOpenAIServer.streamEvents(model: "m", words: ["a"], includeUsage: false).prefix(2)) + ["data: never\n\n"],
                        delay: .seconds(3))
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k, stream_timeout: 1}
            """)
        let limited = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"limit"}]}"#)
        XCTAssertEqual(limited.status, 429, "an error before the first byte is an ordinary JSON error")
        XCTAssertEqual(limited.header("content-type"), "application/json")
        XCTAssertTrue(limited.body.contains("slow down"))

        let stalled = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(stalled.status, 200)
        let events = stalled.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        XCTAssertTrue(events.first?.hasPrefix("data: {") ?? false, stalled.body)
        let last = try XCTUnwrap(events.last)
        let error = try JSONValue.parse(String(last.dropFirst(6)))["error"]
        XCTAssertEqual(error?["type"]?.stringValue, "timeout", "a failure after the stream started ends it with an SSE error event: \(stalled.body)")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testClientDisconnectCancelsTheUpstreamRequest() async throws {
        let upstream = try await FakeOpenAIServer { _ in
            .sse(events: FakeOpenAIServer.streamEvents(model: "m", words: Array(repeating: " w", count: 50), includeUsage: false), delay: .milliseconds(200))
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
            """)
        let client = try gateway.client()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(try client.readHead().status, 200)
        _ = try client.readChunk()
        XCTAssertEqual(upstream.openConnections, 1)
        client.disconnect()
        let deadline = Date().addingTimeInterval(3)
        while upstream.openConnections > 0 && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertEqual(upstream.openConnections, 0, "the upstream stream must be closed when the client goes away")
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
