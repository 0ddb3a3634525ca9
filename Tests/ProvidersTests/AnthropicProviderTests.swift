import XCTest
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig

/// The Anthropic provider's plan (URL, headers, credentials) and request translation
/// (OpenAI chat body → Messages API body), asserted exactly.
final class AnthropicProviderTests: XCTestCase {
    func deployment(_ model: String, base: String? = nil, key: String? = nil, defaults: [JSONMember] = [],
                    extraHeaders: [(String, String)] = []) -> Deployment {
        var p = LitellmParams(model: model)
        p.apiBase = base
        p.apiKey = key
        p.requestDefaults = defaults
        p.extraHeaders = extraHeaders.map { (name: $0.0, value: $0.1) }
        return Deployment(modelName: "claude", params: p, modelInfo: ModelInfo(id: "id"))
    }

    func call(_ body: String, endpoint: Endpoint = .chatCompletions, drop: Bool = false) throws -> ProviderCall {
        let buffer = ByteBuffer(string: body)
        let scan = try JSONScanner.scanObject(buffer)
        return ProviderCall(endpoint: endpoint, body: buffer, scan: scan, stream: scan.bool("stream", in: buffer) ?? false, dropParams: drop)
    }

    /// The upstream body for `body` sent to a default deployment, as JSON text.
    func translated(_ body: String, endpoint: Endpoint = .chatCompletions, drop: Bool = false, defaults: [JSONMember] = []) throws -> String {
        let registry = ProviderRegistry(environment: ["ANTHROPIC_API_KEY": "sk-ant-env"])
        let plan = try registry.plan(deployment("anthropic/claude-3-5-sonnet-20240620", defaults: defaults), model: "anthropic/claude-3-5-sonnet-20240620")
        let request = try plan.provider.makeRequest(try call(body, endpoint: endpoint, drop: drop), plan: plan)
        return String(buffer: request.body)
    }

    func testBareClaudeNamesAndThePrefixReachTheAnthropicProvider() throws {
        XCTAssertEqual(ProviderRegistry.split("claude-3-haiku-20240307")?.provider, "anthropic")
        XCTAssertEqual(ProviderRegistry.split("anthropic/claude-3-opus-20240229")?.model, "claude-3-opus-20240229")
        let registry = ProviderRegistry(environment: [:])
        let plan = try registry.plan(deployment("claude-3-haiku-20240307", key: "k"), model: "claude-3-haiku-20240307")
        XCTAssertEqual(plan.provider.name, "anthropic")
        XCTAssertEqual(plan.upstreamModel, "claude-3-haiku-20240307")
    }

    func testPlanSendsTheMessagesAPIHeadersToTheDefaultBase() throws {
        let registry = ProviderRegistry(environment: ["ANTHROPIC_API_KEY": "sk-ant-env"])
        let plan = try registry.plan(deployment("anthropic/claude-3-5-sonnet-20240620"), model: "anthropic/claude-3-5-sonnet-20240620")
        XCTAssertEqual(plan.target, UpstreamTarget(tls: true, host: "api.anthropic.com", port: 443))
        XCTAssertEqual(plan.basePath, "/v1/messages")
        XCTAssertEqual(plan.apiBase, "https://api.anthropic.com/v1/messages")
        XCTAssertEqual(plan.headers.map { "\($0.name): \($0.value)" }, [
            "Host: api.anthropic.com", "x-api-key: sk-ant-env", "anthropic-version: 2023-06-01", "content-type: application/json",
        ])
        let request = try plan.provider.makeRequest(try call(#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#), plan: plan)
        XCTAssertEqual(request.uri, "/v1/messages")
        XCTAssertEqual(request.method, .POST)
    }

    func testApiBaseKeyAndEnvironmentFallbacks() throws {
        let env = ["ANTHROPIC_API_KEY": "sk-env", "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080/anthropic"]
        let registry = ProviderRegistry(environment: env)
        let fromEnv = try registry.plan(deployment("anthropic/c"), model: "anthropic/c")
        XCTAssertEqual(fromEnv.target, UpstreamTarget(tls: false, host: "127.0.0.1", port: 8080))
        XCTAssertEqual(fromEnv.basePath, "/anthropic/v1/messages")
        XCTAssertEqual(fromEnv.headers.first(name: "x-api-key"), "sk-env")

        let apiBaseWins = ProviderRegistry(environment: env.merging(["ANTHROPIC_API_BASE": "https://a.example"]) { $1 })
        XCTAssertEqual(try apiBaseWins.plan(deployment("anthropic/c"), model: "anthropic/c").target.host, "a.example",
                       "ANTHROPIC_API_BASE is read before ANTHROPIC_BASE_URL")

        let own = try registry.plan(deployment("anthropic/c", base: "https://proxy.example/v1", key: "sk-own",
                                               extraHeaders: [("anthropic-beta", "prompt-caching-2024-07-31")]), model: "anthropic/c")
        XCTAssertEqual(own.basePath, "/v1/messages", "an api_base ending in /v1 gets /messages")
        XCTAssertEqual(own.headers[canonicalForm: "x-api-key"], ["sk-own"])
        XCTAssertEqual(own.headers.first(name: "anthropic-beta"), "prompt-caching-2024-07-31")
        XCTAssertEqual(AnthropicProvider.messagesPath(base: "/x/v1/messages"), "/x/v1/messages")
        XCTAssertEqual(AnthropicProvider.messagesPath(base: ""), "/v1/messages")

        let none = try ProviderRegistry(environment: [:]).plan(deployment("anthropic/c", key: ""), model: "anthropic/c")
        XCTAssertNil(none.headers.first(name: "x-api-key"), "an empty api_key sends no key")

        let bad = ProviderRegistry(environment: ["ANTHROPIC_API_KEY": "sk\r\nX-Injected: 1"])
        XCTAssertThrowsError(try bad.plan(deployment("anthropic/c"), model: "anthropic/c")) { error in
            XCTAssertTrue((error as? OpenAIError)?.message.contains("ANTHROPIC_API_KEY") ?? false)
            XCTAssertFalse((error as? OpenAIError)?.message.contains("Injected") ?? true)
        }
    }

    func testSystemMessagesAreLiftedAndMaxTokensDefaults() throws {
        let body = try translated(#"""
            {"model":"claude","messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Hi"},
              {"role":"system","content":[{"type":"text","text":"Really.","cache_control":{"type":"ephemeral"}}]}
            ],"temperature":0.5,"top_p":0.9,"stop":"END","user":"user-42","metadata":{"tags":["x"]},"num_retries":2}
            """#)
        XCTAssertEqual(body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Really.","cache_control":{"type":"ephemeral"}}],"max_tokens":4096,"temperature":0.5,"top_p":0.9,"stop_sequences":["END"],"metadata":{"user_id":"user-42"}}"#)
    }

    func testMaxTokensFromTheClientTheDeploymentOrTheEnvironment() throws {
        func maxTokens(_ body: String, defaults: [JSONMember] = []) throws -> JSONValue? {
            try JSONValue.parse(try translated(body, defaults: defaults))["max_tokens"]
        }
        let m = #""messages":[{"role":"user","content":"x"}]"#
        XCTAssertEqual(try maxTokens("{\(m),\"max_tokens\":100}"), .int(100))
        XCTAssertEqual(try maxTokens("{\(m),\"max_completion_tokens\":200}"), .int(200))
        XCTAssertEqual(try maxTokens("{\(m)}", defaults: [JSONMember("max_tokens", .int(300))]), .int(300))
        XCTAssertEqual(try maxTokens("{\(m),\"max_tokens\":null}"), .int(4096))
        XCTAssertEqual(try maxTokens("{\(m),\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2000}}"), .int(6096),
                       "extended thinking without a limit: the budget plus the default, as LiteLLM does")
        let low = try JSONValue.parse(try translated("{\(m),\"reasoning_effort\":\"low\"}"))
        XCTAssertEqual(low["thinking"], .object([JSONMember("type", .string("enabled")), JSONMember("budget_tokens", .int(1024))]))
        XCTAssertEqual(low["max_tokens"], .int(5120))

        let env = ProviderRegistry(environment: ["DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS": "1000", "ANTHROPIC_API_KEY": "k"])
        let plan = try env.plan(deployment("anthropic/c"), model: "anthropic/c")
        let request = try plan.provider.makeRequest(try call("{\(m)}"), plan: plan)
        XCTAssertEqual(try JSONValue.parse(String(buffer: request.body))["max_tokens"], .int(1000))
        XCTAssertThrowsError(try translated("{\(m),\"max_tokens\":\"many\"}"))
    }

    func testToolsToolCallsAndToolResultsBothWays() throws {
        let body = try translated(#"""
            {"model":"claude","stream":true,"messages":[
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":""}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
              {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"21C"}]},
              {"role":"user","content":"Thanks. Which is warmer?"}
            ],
            "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
                     {"type":"function","function":{"name":"now"}}],
            "tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false,
            "stream_options":{"include_usage":true}}
            """#)
        XCTAssertEqual(body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"toolu_2","name":"get_weather","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"21C"}]},{"type":"text","text":"Thanks. Which is warmer?"}]}],"max_tokens":4096,"tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},"tools":[{"name":"get_weather","description":"Current weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},{"name":"now","input_schema":{"type":"object","properties":{}}}],"stream":true}"#)
    }

    func testToolChoiceMapping() throws {
        func choice(_ value: String, parallel: String? = nil) throws -> JSONValue? {
            let extra = parallel.map { ",\"parallel_tool_calls\":\($0)" } ?? ""
            return try JSONValue.parse(try translated(#"{"messages":[{"role":"user","content":"x"}],"tool_choice":\#(value)\#(extra)}"#))["tool_choice"]
        }
        XCTAssertEqual(try choice(#""auto""#)?.jsonText, #"{"type":"auto"}"#)
        XCTAssertEqual(try choice(#""required""#)?.jsonText, #"{"type":"any"}"#)
        XCTAssertEqual(try choice(#""none""#, parallel: "true")?.jsonText, #"{"type":"none"}"#)
        XCTAssertEqual(try choice(#""auto""#, parallel: "true")?.jsonText, #"{"type":"auto","disable_parallel_tool_use":false}"#)
        XCTAssertThrowsError(try choice(#"{"type":"mystery"}"#))
    }

    func testConsecutiveRolesMergeImagesBecomeBlocksAndTheLastAssistantTurnIsTrimmed() throws {
        let body = try translated(#"""
            {"messages":[
              {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
              {"role":"user","content":[{"type":"image_url","image_url":"https://example.com/cat.jpg"}]},
              {"role":"assistant","content":"It is "},
              {"role":"assistant","content":[{"type":"text","text":"a cat.  "},{"type":"text","text":""}]}
            ]}
            """#)
        XCTAssertEqual(body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]},{"role":"assistant","content":[{"type":"text","text":"It is"},{"type":"text","text":"a cat."}]}],"max_tokens":4096}"#)
        let pdf = try translated(#"{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0="}}]}]}"#)
        XCTAssertTrue(pdf.contains(#"{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}"#), pdf)
        XCTAssertThrowsError(try translated(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,raw"}}]}]}"#))
    }

    func testJSONModeForcesTheJSONTool() throws {
        let body = try translated(#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}"#)
        XCTAssertEqual(body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"max_tokens":4096,"tools":[{"name":"json_tool_call","input_schema":{"type":"object","properties":{"a":{"type":"integer"}}}}],"tool_choice":{"type":"tool","name":"json_tool_call"}}"#)
        let text = try translated(#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"}}"#)
        XCTAssertFalse(text.contains("json_tool_call"))
    }

    func testWebSearchOptionsBecomeTheHostedWebSearchTool() throws {
        let body = try translated(#"{"messages":[{"role":"user","content":"news?"}],"web_search_options":{"search_context_size":"medium","user_location":{"type":"approximate","approximate":{"city":"Paris","country":"FR","extra":1}}}}"#)
        XCTAssertEqual(try JSONValue.parse(body)["tools"]?.jsonText, #"[{"type":"web_search_20250305","name":"web_search","user_location":{"type":"approximate","city":"Paris","country":"FR"},"max_uses":5}]"#)
    }

    func testUnsupportedOpenAIParametersAreRefusedUnlessDropped() throws {
        let body = #"{"messages":[{"role":"user","content":"x"}],"seed":1,"logit_bias":{"1":2},"n":1,"top_k":5,"presence_penalty":null}"#
        XCTAssertThrowsError(try translated(body)) { error in
            let e = error as? OpenAIError
            XCTAssertEqual(e?.status, 400)
            XCTAssertTrue(e?.message.contains("'seed', 'logit_bias'") ?? false, e?.message ?? "")
            XCTAssertTrue(e?.message.contains("drop_params") ?? false)
        }
        XCTAssertEqual(try translated(body, drop: true), #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],"max_tokens":4096,"top_k":5}"#,
                       "n=1 and null values are harmless; top_k is Anthropic's own and passes through")
    }

    func testUserIDsAnthropicRefusesAreLeftOut() {
        XCTAssertTrue(AnthropicMessagesRequest.isUsableUserID("user-42"))
        XCTAssertFalse(AnthropicMessagesRequest.isUsableUserID("jane@example.com"))
        XCTAssertFalse(AnthropicMessagesRequest.isUsableUserID("+1 (555) 123-4567"))
        XCTAssertTrue(AnthropicMessagesRequest.isUsableUserID("12345"))
    }

    func testTextCompletionsBecomeOneUserMessage() throws {
        let body = try translated(#"{"model":"c","prompt":"Say hi","max_tokens":5}"#, endpoint: .completions)
        XCTAssertEqual(body, #"{"model":"claude-3-5-sonnet-20240620","messages":[{"role":"user","content":[{"type":"text","text":"Say hi"}]}],"max_tokens":5}"#)
    }

    func testEmbeddingsAreRefusedWithAClearError() throws {
        XCTAssertThrowsError(try translated(#"{"model":"c","input":"x"}"#, endpoint: .embeddings)) { error in
            let e = error as? OpenAIError
            XCTAssertEqual(e?.status, 400)
            XCTAssertEqual(e?.type, "invalid_request_error")
            XCTAssertTrue(e?.message.contains("Anthropic has no embeddings API") ?? false)
        }
    }

    func testMessagesThatCannotBeTranslatedAreRefused() {
        XCTAssertThrowsError(try translated(#"{"messages":[{"role":"system","content":"only a system prompt"}]}"#))
        XCTAssertThrowsError(try translated(#"{"messages":[{"role":"tool","content":"no id"}]}"#))
        XCTAssertThrowsError(try translated(#"{"messages":[{"role":"assistant","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"not json"}}]}]}"#))
        XCTAssertThrowsError(try translated(#"{"messages":"hi"}"#))
    }
}
