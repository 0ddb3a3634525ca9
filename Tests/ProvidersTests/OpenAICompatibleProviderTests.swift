import XCTest
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig

final class OpenAICompatibleProviderTests: XCTestCase {
    func deployment(_ model: String, base: String? = nil, key: String? = nil, defaults: [JSONMember] = []) -> Deployment {
        var p = LitellmParams(model: model)
        p.apiBase = base
        p.apiKey = key
        p.requestDefaults = defaults
        return Deployment(modelName: "g", params: p, modelInfo: ModelInfo(id: "id"))
    }

    func call(_ body: String, endpoint: Endpoint = .chatCompletions, drop: Bool = false) throws -> ProviderCall {
        let buffer = ByteBuffer(string: body)
        return ProviderCall(endpoint: endpoint, body: buffer, scan: try JSONScanner.scanObject(buffer), stream: false, dropParams: drop)
    }

    func testProviderInference() {
        XCTAssertEqual(ProviderRegistry.split("gpt-4o")?.provider, "openai")
        XCTAssertEqual(ProviderRegistry.split("text-embedding-ada-002")?.provider, "openai")
        XCTAssertEqual(ProviderRegistry.split("openai/facebook/opt-125m")?.model, "facebook/opt-125m")
        XCTAssertEqual(ProviderRegistry.split("hosted_vllm/meta/llama")?.provider, "hosted_vllm")
        XCTAssertEqual(ProviderRegistry.split("claude-3-haiku-20240307")?.provider, "anthropic")
        XCTAssertEqual(ProviderRegistry.split("azure/gpt-4o-eu")?.provider, "azure")
        XCTAssertNil(ProviderRegistry.split("mystery-model"))
    }

    func testPlanUsesApiBaseKeyAndEnvironmentDefaults() throws {
        let registry = ProviderRegistry(environment: ["OPENAI_API_KEY": "sk-env", "DEEPSEEK_API_KEY": "sk-ds"])
        let plan = try registry.plan(deployment("gpt-4o"), model: "gpt-4o")
        XCTAssertEqual(plan.target, UpstreamTarget(tls: true, host: "api.openai.com", port: 443))
        XCTAssertEqual(plan.basePath, "/v1")
        XCTAssertEqual(plan.headers.first(name: "authorization"), "Bearer sk-env")
        XCTAssertEqual(plan.headers.first(name: "host"), "api.openai.com")

        let own = try registry.plan(deployment("openai/x", base: "http://10.0.0.5:8000/v1/", key: "sk-own"), model: "openai/x")
        XCTAssertEqual(own.target, UpstreamTarget(tls: false, host: "10.0.0.5", port: 8000))
        XCTAssertEqual(own.upstreamModel, "x")
        XCTAssertEqual(own.headers.first(name: "authorization"), "Bearer sk-own")
        XCTAssertEqual(own.apiBase, "http://10.0.0.5:8000/v1")

        let ds = try registry.plan(deployment("deepseek/deepseek-chat"), model: "deepseek/deepseek-chat")
        XCTAssertEqual(ds.target.host, "api.deepseek.com")
        XCTAssertEqual(ds.headers.first(name: "authorization"), "Bearer sk-ds")

        XCTAssertThrowsError(try registry.plan(deployment("hosted_vllm/x"), model: "hosted_vllm/x"))
        XCTAssertThrowsError(try registry.plan(deployment("openai/x", base: "your_ollama_api_base"), model: "openai/x"))
        do {
            _ = try registry.plan(deployment("vertex_ai/gemini-pro"), model: "vertex_ai/gemini-pro")
            XCTFail("vertex_ai is not built yet")
        } catch {
            XCTAssertEqual(error.status, 501)
        }
    }

    func testBodyRewriteReplacesModelMergesDefaultsAndDropsGatewayKeys() throws {
        let registry = ProviderRegistry(environment: [:])
        let d = deployment("openai/real-model", base: "http://h/v1", defaults: [
            JSONMember("temperature", .double(0.2)), JSONMember("max_tokens", .int(20)),
        ])
        let plan = try registry.plan(d, model: d.params.model)
        let req = try plan.provider.makeRequest(try call(#"{"model":"alias","messages":[],"temperature":1,"metadata":{"a":1},"num_retries":3,"mock_response":null,"weird":[1]}"#), plan: plan)
        let json = try JSONValue.parse(String(buffer: req.body))
        XCTAssertEqual(json.objectValue?.map(\.key), ["model", "messages", "temperature", "weird", "max_tokens"])
        XCTAssertEqual(json["model"], .string("real-model"))
        XCTAssertEqual(json["temperature"], .int(1))
        XCTAssertEqual(json["max_tokens"], .int(20))
        XCTAssertEqual(req.uri, "/v1/chat/completions")
        XCTAssertNil(req.headers.first(name: "content-length"), "the connection writes Content-Length")

        let dropped = try plan.provider.makeRequest(try call(#"{"model":"a","input":"x","weird":1}"#, endpoint: .embeddings, drop: true), plan: plan)
        let dj = try JSONValue.parse(String(buffer: dropped.body))
        XCTAssertEqual(dj.objectValue?.map(\.key), ["model", "input"], "drop_params removes what embeddings do not take, defaults included")
        XCTAssertEqual(dropped.uri, "/v1/embeddings")
    }

    func testUpstreamURLParsing() {
        XCTAssertEqual(UpstreamURL("https://x.openai.azure.com/")?.target, UpstreamTarget(tls: true, host: "x.openai.azure.com", port: 443))
        XCTAssertEqual(UpstreamURL("http://[::1]:9997/v1?x=1")?.target, UpstreamTarget(tls: false, host: "::1", port: 9997))
        XCTAssertEqual(UpstreamURL("http://[::1]:9997/v1?x=1")?.query, "x=1")
        XCTAssertEqual(UpstreamURL("http://0.0.0.0:4000/v1")?.path, "/v1")
        XCTAssertNil(UpstreamURL("your_ollama_api_base"))
        XCTAssertNil(UpstreamURL("http://host:notaport/"))
    }

    func testMockAnswersInOpenAIShapes() throws {
        guard case .json(let chat) = MockResponder.answer(.string("hi"), endpoint: .chatCompletions, model: "m", stream: false,
                                                          includeUsage: false, callID: "c", promptChars: 40, created: 1) else { return XCTFail() }
        let cj = try JSONValue.parse(String(buffer: chat))
        XCTAssertEqual(cj["object"], .string("chat.completion"))
        XCTAssertEqual(cj["usage"]?["prompt_tokens"], .int(10))
        guard case .stream(let events) = MockResponder.answer(.string("a b"), endpoint: .chatCompletions, model: "m", stream: true,
                                                              includeUsage: true, callID: "c", promptChars: 4, created: 1) else { return XCTFail() }
        XCTAssertEqual(events.count, 5, "two deltas, finish, usage, [DONE]")
        XCTAssertEqual(String(buffer: events.last!), "data: [DONE]\n\n")
        guard case .error(let e) = MockResponder.answer(.string("litellm.ContextWindowExceededError"), endpoint: .chatCompletions,
                                                        model: "m", stream: false, includeUsage: false, callID: "c", promptChars: 1, created: 1) else { return XCTFail() }
        XCTAssertEqual(e.status, 400)
        XCTAssertEqual(e.type, "context_window_exceeded")
    }

    func testStreamsAskUpstreamForUsageKeepingTheClientsOptions() throws {
        let registry = ProviderRegistry(environment: [:])
        let plan = try registry.plan(deployment("openai/m", base: "http://127.0.0.1:9/v1"), model: "openai/m")
        func upstreamOptions(_ body: String) throws -> JSONValue? {
            let buffer = ByteBuffer(string: body)
            let call = ProviderCall(endpoint: .chatCompletions, body: buffer, scan: try JSONScanner.scanObject(buffer), stream: true, dropParams: false)
            let request = try plan.provider.makeRequest(call, plan: plan)
            return try JSONValue.parse(String(buffer: request.body))["stream_options"]
        }
        XCTAssertEqual(try upstreamOptions(#"{"model":"m","stream":true,"messages":[]}"#)?["include_usage"]?.boolValue, true)
        let merged = try upstreamOptions(#"{"model":"m","stream":true,"stream_options":{"continuous_usage_stats":true},"messages":[]}"#)
        XCTAssertEqual(merged?["include_usage"]?.boolValue, true)
        XCTAssertEqual(merged?["continuous_usage_stats"]?.boolValue, true)
        XCTAssertEqual(try upstreamOptions(#"{"model":"m","stream":true,"stream_options":{ },"messages":[]}"#)?["include_usage"]?.boolValue, true)
        XCTAssertEqual(try upstreamOptions(#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#)?["include_usage"]?.boolValue, true)
        let buffer = ByteBuffer(string: #"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#)
        XCTAssertTrue(ProviderCall(endpoint: .chatCompletions, body: buffer, scan: try JSONScanner.scanObject(buffer), stream: true, dropParams: false).clientWantsUsage)
    }
}
