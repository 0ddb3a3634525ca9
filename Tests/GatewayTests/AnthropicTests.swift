import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// `anthropic/` deployments end to end, against a fake that speaks Anthropic's Messages API:
/// the exact upstream request, plain and streaming chat translated to OpenAI's shapes, usage in
/// the record, errors in OpenAI's shape, embeddings refused.
final class AnthropicTests: XCTestCase {
    static let model = "claude-3-5-sonnet-20240620"

    static func config(_ upstream: FakeOpenAIServer, key: String = "sk-ant-test", extra: String = "") -> String {
        """
        model_list:
          - model_name: claude
            litellm_params: {model: anthropic/\(model), api_base: "\(upstream.anthropicBase)", api_key: \(key)\(extra)}
        """
    }

    func testPlainChatIsTranslatedBothWays() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "sk-ant-test"))
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, extra: ", temperature: 0.2"))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"claude","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"stop":["END"],"user":"u1"}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(r.header("content-type"), "application/json")

        let sent = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(sent.method, "POST")
        XCTAssertEqual(sent.uri, "/v1/messages")
        XCTAssertEqual(sent.header("x-api-key"), "sk-ant-test")
        XCTAssertEqual(sent.header("anthropic-version"), "2023-06-01")
        XCTAssertEqual(sent.header("content-type"), "application/json")
        XCTAssertEqual(sent.header("host"), "127.0.0.1:\(upstream.port)")
        XCTAssertNil(sent.header("authorization"))
        XCTAssertEqual(sent.body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"system":[{"type":"text","text":"Be brief."}],"max_tokens":50,"stop_sequences":["END"],"metadata":{"user_id":"u1"},"temperature":0.2}"#)

        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["object"], .string("chat.completion"))
        XCTAssertEqual(answer["id"], .string("chatcmpl-msg_01FakeMessage"))
        XCTAssertEqual(answer["model"], .string(Self.model))
        XCTAssertNotNil(answer["created"]?.intValue)
        let choice = answer["choices"]?.arrayValue?.first
        XCTAssertEqual(choice?["message"]?["role"], .string("assistant"))
        XCTAssertEqual(choice?["message"]?["content"], .string("Hello from fake Claude"))
        XCTAssertEqual(choice?["finish_reason"], .string("stop"))
        XCTAssertEqual(answer["usage"]?.jsonText, #"{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}"#)

        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: 12, completionTokens: 6))
        XCTAssertEqual(records.first?.status, 200)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testStreamingChatReachesTheClientEventByEvent() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "sk-ant-test", delay: .milliseconds(300)))
        let gateway = try await GatewayHarness(yaml: Self.config(upstream))
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}"#)
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-type"), "text/event-stream")
        let first = try XCTUnwrap(try client.readChunk())
        let firstAt = Date().timeIntervalSince(started)
        var rest: [String] = []
        while let chunk = try client.readChunk() { rest.append(chunk) }
        let total = Date().timeIntervalSince(started)
        XCTAssertLessThan(firstAt, 0.25, "message_start must reach the client before the upstream sends its next event")
        XCTAssertGreaterThan(total, 2.4, "the upstream spaced 10 events 300 ms apart")

        let firstChunk = try JSONValue.parse(String(first.dropFirst(6).dropLast(2)))
        XCTAssertEqual(firstChunk["object"], .string("chat.completion.chunk"))
        XCTAssertEqual(firstChunk["choices"]?.arrayValue?.first?["delta"]?["role"], .string("assistant"))

        let all = ([first] + rest).joined()
        XCTAssertTrue(all.hasSuffix("data: [DONE]\n\n"), all)
        let events = all.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.map { try? JSONValue.parse(String($0.dropFirst(6))) }
        let contents = events.compactMap { $0?["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }
        XCTAssertEqual(contents.joined(), "Hello from fake Claude")
        XCTAssertEqual(events.compactMap { $0?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }, ["stop"])
        let usageChunk = try XCTUnwrap(events.last ?? nil)
        XCTAssertEqual(usageChunk["choices"], .array([]))
        XCTAssertEqual(usageChunk["usage"]?["total_tokens"], .int(18))

        let sent = try XCTUnwrap(upstream.requests.last?.json)
        XCTAssertEqual(sent["stream"], .bool(true))
        XCTAssertNil(sent["stream_options"], "Anthropic has no stream_options")
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: 12, completionTokens: 6))
        XCTAssertEqual(records.first?.stream, true)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testToolCallsComeBackAsOpenAIToolCalls() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "k") { request in
            .json(status: 200, body: #"{"id":"msg_T","type":"message","role":"assistant","model":"claude-3-5-sonnet-20240620","content":[{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":40,"output_tokens":12}}"#)
        })
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, key: "k"))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"claude","messages":[{"role":"user","content":"Weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"required"}"#)
        XCTAssertEqual(r.status, 200, r.body)
        let sent = try XCTUnwrap(upstream.requests.last?.json)
        XCTAssertEqual(sent["tools"]?.jsonText, #"[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]"#)
        XCTAssertEqual(sent["tool_choice"]?.jsonText, #"{"type":"any"}"#)
        let choice = try JSONValue.parse(r.body)["choices"]?.arrayValue?.first
        XCTAssertEqual(choice?["finish_reason"], .string("tool_calls"))
        XCTAssertEqual(choice?["message"]?["content"], .null)
        XCTAssertEqual(choice?["message"]?["tool_calls"]?.jsonText, #"[{"id":"toolu_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]"#)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testErrorsAreAnsweredInOpenAIShape() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "sk-ant-test") { request in
            switch request.json?["messages"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"]?.stringValue {
            case "long": return FakeAnthropicServer.error(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")
            case "busy": return FakeAnthropicServer.error(529, "overloaded_error", "Overloaded")
            default: return FakeAnthropicServer.standardAnswer(request)
            }
        })
        let gateway = try await GatewayHarness(yaml: Self.config(upstream))
        func ask(_ content: String) throws -> (TestHTTPResponse, JSONValue?) {
            let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"claude","messages":[{"role":"user","content":"\#(content)"}]}"#)
            return (r, try? JSONValue.parse(r.body)["error"])
        }
        let (long, longError) = try ask("long")
        XCTAssertEqual(long.status, 400)
        XCTAssertEqual(long.header("content-type"), "application/json")
        XCTAssertEqual(longError?.jsonText, #"{"message":"AnthropicException - prompt is too long: 208310 tokens > 200000 maximum","type":"context_window_exceeded","param":null,"code":"400"}"#)
        let (busy, busyError) = try ask("busy")
        XCTAssertEqual(busy.status, 529)
        XCTAssertEqual(busyError?["type"], .string("internal_server_error"))

        let wrongKey = try await GatewayHarness(yaml: Self.config(upstream, key: "wrong"))
        let denied = try wrongKey.request("POST", "/v1/chat/completions", body: #"{"model":"claude","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(denied.status, 401)
        XCTAssertEqual(try JSONValue.parse(denied.body)["error"]?["type"], .string("authentication_error"))

        let records = await gateway.records.wait(for: 2)
        XCTAssertEqual(Set(records.compactMap { $0.failure?.name }), ["context_window_exceeded", "server_error"])
        await wrongKey.shutdown()
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testAnErrorEventMidStreamEndsTheStreamWithAnError() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "k") { request in
            let events = FakeAnthropicServer.streamEvents(model: Self.model, words: ["Hel"])
            return .sse(events: Array(events.prefix(4)) + [FakeAnthropicServer.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)])
        })
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, key: "k"))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"claude","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(r.status, 200)
        let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        XCTAssertEqual(try JSONValue.parse(String(events[1].dropFirst(6)))["choices"]?.arrayValue?.first?["delta"]?["content"], .string("Hel"))
        let error = try JSONValue.parse(String(try XCTUnwrap(events.last).dropFirst(6)))["error"]
        XCTAssertEqual(error?["message"], .string("AnthropicException - Overloaded"), r.body)
        XCTAssertFalse(r.body.contains("[DONE]"))
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testTextCompletionsGoThroughTheMessagesAPI() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "k"))
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, key: "k"))
        let r = try gateway.request("POST", "/v1/completions", body: #"{"model":"claude","prompt":"Say hi","max_tokens":5}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(upstream.requests.last?.body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"Say hi"}]}],"max_tokens":5}"#)
        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["object"], .string("text_completion"))
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["text"], .string("Hello from fake Claude"))
        XCTAssertEqual(answer["usage"]?["total_tokens"], .int(18))

        let stream = try gateway.request("POST", "/v1/completions", body: #"{"model":"claude","prompt":"Say hi","stream":true}"#)
        XCTAssertEqual(stream.status, 200)
        let texts = stream.body.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.compactMap {
            try? JSONValue.parse(String($0.dropFirst(6)))["choices"]?.arrayValue?.first?["text"]?.stringValue
        }
        XCTAssertEqual(texts.joined(), "Hello from fake Claude")
        XCTAssertTrue(stream.body.hasSuffix("data: [DONE]\n\n"))
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testEmbeddingsAreRefusedWithoutCallingAnthropic() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "k"))
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, key: "k"))
        let r = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"claude","input":"hello"}"#)
        XCTAssertEqual(r.status, 400)
        let error = try JSONValue.parse(r.body)["error"]
        XCTAssertEqual(error?["type"], .string("invalid_request_error"))
        XCTAssertTrue(error?["message"]?.stringValue?.contains("Anthropic has no embeddings API") ?? false, r.body)
        XCTAssertTrue(upstream.requests.isEmpty)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testTheEnvironmentKeyServesWildcardAndBareClaudeDeployments() async throws {
        let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "sk-from-env"))
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: "*"
                litellm_params: {model: "*"}
            """, environment: ["ANTHROPIC_API_KEY": "sk-from-env", "ANTHROPIC_API_BASE": upstream.anthropicBase])
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"claude-3-haiku-20240307","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(try JSONValue.parse(r.body)["model"], .string("claude-3-haiku-20240307"))
        XCTAssertEqual(upstream.requests.last?.json?["max_tokens"], .int(4096))
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
