import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// `ollama/` and `ollama_chat/` deployments end to end against a fake Ollama server.
final class OllamaTests: XCTestCase {
    static func config(_ ollama: FakeOllamaServer) -> String {
        """
        model_list:
          - model_name: llama
            litellm_params: {model: ollama_chat/llama3.2, api_base: "\(ollama.baseURL)", num_ctx: 4096}
          - model_name: llama-generate
            litellm_params: {model: ollama/llama3.2, api_base: "\(ollama.baseURL)"}
          - model_name: embed
            litellm_params: {model: ollama/nomic-embed-text, api_base: "\(ollama.baseURL)"}
          - model_name: missing
            litellm_params: {model: ollama/not-pulled, api_base: "\(ollama.baseURL)"}
        """
    }

    func testChatTheExactUpstreamRequestAndUsage() async throws {
        let ollama = try await FakeOllamaServer()
        let gateway = try await GatewayHarness(yaml: Self.config(ollama))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"llama","messages":[{"role":"user","content":"hi"}],"max_tokens":30,"temperature":0.1}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(r.header("content-type"), "application/json")
        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(answer["model"]?.stringValue, "llama3.2")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello from fake Ollama")
        XCTAssertEqual(answer["usage"]?["prompt_tokens"]?.intValue, FakeOllamaServer.promptEvalCount)
        let sent = try XCTUnwrap(ollama.requests.last)
        XCTAssertEqual(sent.uri, "/api/chat")
        XCTAssertEqual(sent.header("content-type"), "application/json")
        XCTAssertEqual(sent.body, #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_ctx":4096,"num_predict":30,"temperature":0.1}}"#)

        let tools = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"llama","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}"#)
        let message = try JSONValue.parse(tools.body)["choices"]?.arrayValue?.first
        XCTAssertEqual(message?["finish_reason"]?.stringValue, "tool_calls")
        XCTAssertEqual(message?["message"]?["tool_calls"]?.arrayValue?.first?["function"]?["arguments"]?.stringValue, #"{"city":"Paris","days":2}"#)

        let records = await gateway.records.wait(for: 2)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: FakeOllamaServer.promptEvalCount, completionTokens: FakeOllamaServer.evalCount))
        await gateway.shutdown()
        await ollama.shutdown()
    }

    func testNDJSONStreamReachesTheClientLineByLine() async throws {
        let ollama = try await FakeOllamaServer(lineDelay: .milliseconds(300))
        let gateway = try await GatewayHarness(yaml: Self.config(ollama))
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"llama","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#)
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-type"), "text/event-stream")
        let first = try XCTUnwrap(try client.readChunk())
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.25, "the first line's chunk arrives before Ollama sends the next")
        XCTAssertTrue(first.hasPrefix("data: {"), first)
        var all = first
        while let chunk = try client.readChunk() { all += chunk }
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 1.2, "5 lines 300 ms apart")
        XCTAssertTrue(all.hasSuffix("data: [DONE]\n\n"))
        let events = all.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.map { try? JSONValue.parse(String($0.dropFirst(6))) }
        XCTAssertEqual(events.compactMap { $0?["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined(), "Hello from fake Ollama")
        XCTAssertEqual(events.last??["usage"]?["completion_tokens"]?.intValue, FakeOllamaServer.evalCount)
        XCTAssertEqual(ollama.requests.last?.json?["stream"]?.boolValue, true)
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: FakeOllamaServer.promptEvalCount, completionTokens: FakeOllamaServer.evalCount))
        XCTAssertEqual(records.first?.stream, true)
        await gateway.shutdown()
        await ollama.shutdown()
    }

    func testGenerateEmbeddingsAndErrors() async throws {
        let ollama = try await FakeOllamaServer(models: ["llama3.2", "nomic-embed-text"])
        let gateway = try await GatewayHarness(yaml: Self.config(ollama))
        let text = try gateway.request("POST", "/v1/completions", body: #"{"model":"llama-generate","prompt":"Once","stream":true}"#)
        XCTAssertEqual(text.status, 200, text.body)
        XCTAssertTrue(text.body.contains(#""object":"text_completion""#))
        XCTAssertEqual(ollama.requests.last?.uri, "/api/generate")

        let e = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"embed","input":["a","b"]}"#)
        XCTAssertEqual(e.status, 200, e.body)
        let list = try JSONValue.parse(e.body)
        XCTAssertEqual(list["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(list["data"]?.arrayValue?.last?["embedding"], .array([.double(0.02), .double(-0.5), .double(0.001)]))
        XCTAssertEqual(ollama.requests.last?.body, #"{"model":"nomic-embed-text","input":["a","b"]}"#)

        let missing = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"missing","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try JSONValue.parse(missing.body)["error"]?["message"]?.stringValue, #"model "not-pulled" not found, try pulling it first"#)
        XCTAssertEqual(try JSONValue.parse(missing.body)["error"]?["code"]?.stringValue, "404")

        let broken = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"llama","stream":true,"messages":[{"role":"user","content":"STREAM_ERROR"}]}"#)
        XCTAssertEqual(broken.status, 200, "the stream had started")
        XCTAssertTrue(broken.body.contains("an error was encountered while running the model"), broken.body)
        await gateway.shutdown()
        await ollama.shutdown()
    }
}
