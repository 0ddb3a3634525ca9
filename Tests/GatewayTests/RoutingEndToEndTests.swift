import XCTest
import OpenAIWire
import SwitchboardTesting

/// Model groups, aliases, wildcards and weighted picks, through the whole server.
final class RoutingEndToEndTests: XCTestCase {
    func testWeightedPickFollowsWeights() async throws {
        let a = try await FakeOpenAIServer()
        let b = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: zephyr-beta
                litellm_params: {model: openai/z, api_base: "\(a.baseURL)", api_key: k, rpm: 100}
              - model_name: zephyr-beta
                litellm_params: {model: openai/z, api_base: "\(b.baseURL)", api_key: k, rpm: 300}
            """)
        let client = try gateway.client()
        var ids = Set<String>()
        for _ in 0..<400 {
            let r = try client.request("POST", "/v1/chat/completions", body: #"{"model":"zephyr-beta","messages":[{"role":"user","content":"x"}]}"#)
            XCTAssertEqual(r.status, 200)
            ids.insert(r.header("x-litellm-model-id") ?? "")
        }
        XCTAssertEqual(ids.count, 2)
        // Expected 100 / 300; the bounds are seven standard deviations wide.
        XCTAssertTrue((40...160).contains(a.requests.count), "rpm 100 deployment got \(a.requests.count) of 400")
        XCTAssertEqual(a.requests.count + b.requests.count, 400)
        await gateway.shutdown()
        await a.shutdown()
        await b.shutdown()
    }

    func testAliasAndWildcardRouting() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: openai/gpt-4o, api_base: "\(upstream.baseURL)", api_key: k}
              - model_name: "openai/*"
                litellm_params: {model: "openai/*", api_base: "\(upstream.baseURL)", api_key: k}
              - model_name: "*"
                litellm_params: {model: "*", mock_response: "from catch-all"}
            router_settings:
              model_group_alias: {"gpt-4": "gpt-4o"}
            """)
        func ask(_ model: String) throws -> TestHTTPResponse {
            try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"\#(model)","messages":[{"role":"user","content":"x"}]}"#)
        }
        let alias = try ask("gpt-4")
        XCTAssertEqual(alias.header("x-litellm-model-group"), "gpt-4o")
        XCTAssertEqual(upstream.requests.last?.json?["model"]?.stringValue, "gpt-4o")
        let wildcard = try ask("openai/gpt-4.1-mini")
        XCTAssertEqual(wildcard.status, 200, wildcard.body)
        XCTAssertEqual(wildcard.header("x-litellm-model-group"), "openai/*")
        XCTAssertEqual(upstream.requests.last?.json?["model"]?.stringValue, "gpt-4.1-mini")
        let catchAll = try ask("claude-3-haiku-20240307")
        XCTAssertEqual(catchAll.status, 200)
        XCTAssertEqual(catchAll.header("x-litellm-model-group"), "*")
        XCTAssertEqual(upstream.requests.count, 2)
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
