import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// `azure/` deployments end to end against a fake Azure OpenAI resource.
final class AzureOpenAITests: XCTestCase {
    static func config(_ azure: FakeAzureOpenAIServer, params: String = #"api_key: azure-key, api_version: "2024-10-21""#) -> String {
        """
        model_list:
          - model_name: gpt-4o
            litellm_params: {model: azure/gpt4o-eu, api_base: "\(azure.baseURL)", \(params)}
          - model_name: embedder
            litellm_params: {model: azure/ada-eu, api_base: "\(azure.baseURL)", \(params)}
        """
    }

    func testChatEmbeddingsAndTheExactUpstreamRequest() async throws {
        let azure = try await FakeAzureOpenAIServer(deployments: ["gpt4o-eu": "gpt-4o-2024-08-06", "ada-eu": "text-embedding-ada-002"])
        let gateway = try await GatewayHarness(yaml: Self.config(azure))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":0.5}"#)
        XCTAssertEqual(r.status, 200, r.body)
        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["model"]?.stringValue, "gpt-4o-2024-08-06", "the model Azure names")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello from fake upstream")
        let sent = try XCTUnwrap(azure.requests.last)
        XCTAssertEqual(sent.method, "POST")
        XCTAssertEqual(sent.uri, "/openai/deployments/gpt4o-eu/chat/completions?api-version=2024-10-21")
        XCTAssertEqual(sent.header("api-key"), "azure-key")
        XCTAssertNil(sent.header("authorization"))
        XCTAssertEqual(sent.header("host"), "127.0.0.1:\(azure.server.port)")
        XCTAssertEqual(sent.body, #"{"model":"gpt4o-eu","messages":[{"role":"user","content":"hi"}],"temperature":0.5}"#)

        let e = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"embedder","input":["a","b"]}"#)
        XCTAssertEqual(e.status, 200, e.body)
        XCTAssertEqual(try JSONValue.parse(e.body)["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(azure.requests.last?.uri, "/openai/deployments/ada-eu/embeddings?api-version=2024-10-21")

        let records = await gateway.records.wait(for: 2)
        XCTAssertEqual(records.first { $0.route == .chatCompletions }?.usage, TokenUsage(promptTokens: 9, completionTokens: 4))
        XCTAssertEqual(records.first { $0.route == .embeddings }?.usage, TokenUsage(promptTokens: 5, completionTokens: 0))
        await gateway.shutdown()
        await azure.shutdown()
    }

    func testStreamReachesTheClientEventByEventWithUsage() async throws {
        let azure = try await FakeAzureOpenAIServer(streamDelay: .milliseconds(300))
        let gateway = try await GatewayHarness(yaml: Self.config(azure))
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-type"), "text/event-stream")
        let first = try XCTUnwrap(try client.readChunk())
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.25, "the first event arrives before the upstream sends the next")
        XCTAssertTrue(first.contains("prompt_filter_results"), first)
        var rest = ""
        while let chunk = try client.readChunk() { rest += chunk }
        XCTAssertTrue(rest.hasSuffix("data: [DONE]\n\n"))
        XCTAssertFalse(rest.contains(#""usage":{"#), "the client did not ask for usage")
        XCTAssertEqual(azure.requests.last?.json?["stream_options"]?["include_usage"]?.boolValue, true)
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: 9, completionTokens: 4))
        await gateway.shutdown()
        await azure.shutdown()
    }

    func testErrorsKeepTheirStatusAndShape() async throws {
        let azure = try await FakeAzureOpenAIServer()
        let gateway = try await GatewayHarness(yaml: Self.config(azure, params: "api_key: wrong"))
        let denied = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(denied.status, 401)
        let error = try JSONValue.parse(denied.body)["error"]
        XCTAssertEqual(error?["type"]?.stringValue, "authentication_error")
        XCTAssertEqual(error?["code"]?.stringValue, "401")
        XCTAssertTrue(error?["message"]?.stringValue?.hasPrefix("Unauthorized.") ?? false, denied.body)
        await gateway.shutdown()

        let ok = try await GatewayHarness(yaml: Self.config(azure))
        let filtered = try ok.request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"FILTER_ME"}]}"#)
        XCTAssertEqual(filtered.status, 400)
        XCTAssertEqual(try JSONValue.parse(filtered.body)["error"]?["code"]?.stringValue, "content_filter")
        let records = await ok.records.wait(for: 1)
        XCTAssertEqual(records.first?.failure?.name, "content_policy_violation")
        await ok.shutdown()
        await azure.shutdown()
    }

    func testAzureADTokenAndEnvironmentDefaults() async throws {
        let azure = try await FakeAzureOpenAIServer(apiKey: "unused", adToken: "ad-token")
        let gateway = try await GatewayHarness(
            yaml: """
                model_list:
                  - model_name: gpt-4o
                    litellm_params: {model: azure/gpt4o-eu}
                """,
            environment: ["AZURE_API_BASE": azure.baseURL, "AZURE_AD_TOKEN": "ad-token"])
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(azure.requests.last?.header("authorization"), "Bearer ad-token")
        XCTAssertEqual(azure.requests.last?.uri, "/openai/deployments/gpt4o-eu/chat/completions?api-version=2025-02-01-preview")
        await gateway.shutdown()
        await azure.shutdown()
    }
}
