import CallModel
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig
import XCTest

final class AzureOpenAIProviderTests: XCTestCase {
    let registry = ProviderRegistry(environment: [:])

    func testRequestGoesToTheDeploymentPathWithApiVersionAndApiKey() throws {
        let d = ProviderTest.deployment("azure/gpt4o-eu", base: "https://res.openai.azure.com/", key: "k1", version: "2024-10-21")
        let plan = try registry.plan(d, model: d.params.model)
        XCTAssertEqual(plan.target, UpstreamTarget(tls: true, host: "res.openai.azure.com", port: 443))
        XCTAssertEqual(plan.headers.first(name: "api-key"), "k1")
        XCTAssertNil(plan.headers.first(name: "authorization"))
        XCTAssertEqual(plan.apiBase, "https://res.openai.azure.com")
        let chat = try plan.provider.makeRequest(try ProviderTest.call(#"{"model":"g","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#), plan: plan)
        XCTAssertEqual(chat.uri, "/openai/deployments/gpt4o-eu/chat/completions?api-version=2024-10-21")
        XCTAssertEqual(String(buffer: chat.body), #"{"model":"gpt4o-eu","messages":[{"role":"user","content":"hi"}],"temperature":0.2}"#)
        let embed = try plan.provider.makeRequest(try ProviderTest.call(#"{"model":"g","input":["a"]}"#, endpoint: .embeddings), plan: plan)
        XCTAssertEqual(embed.uri, "/openai/deployments/gpt4o-eu/embeddings?api-version=2024-10-21")
        let text = try plan.provider.makeRequest(try ProviderTest.call(#"{"model":"g","prompt":"a"}"#, endpoint: .completions), plan: plan)
        XCTAssertEqual(text.uri, "/openai/deployments/gpt4o-eu/completions?api-version=2024-10-21")
    }

    func testEnvironmentDefaultsAndTheDocumentedDefaultVersion() throws {
        let env = ProviderRegistry(environment: ["AZURE_API_KEY": "env-key", "AZURE_API_BASE": "https://env.openai.azure.com/openai"])
        let plan = try env.plan(ProviderTest.deployment("azure/dep"), model: "azure/dep")
        XCTAssertEqual(plan.target.host, "env.openai.azure.com")
        XCTAssertEqual(plan.headers.first(name: "api-key"), "env-key")
        let r = try plan.provider.makeRequest(try ProviderTest.call(#"{"model":"g","messages":[]}"#), plan: plan)
        XCTAssertEqual(r.uri, "/openai/deployments/dep/chat/completions?api-version=\(AzureOpenAIProvider.defaultAPIVersion)", "a base ending in /openai is not doubled")

        let versioned = ProviderRegistry(environment: ["AZURE_API_KEY": "k", "AZURE_API_BASE": "https://e.openai.azure.com", "AZURE_API_VERSION": "2023-07-01-preview"])
        let old = try versioned.plan(ProviderTest.deployment("azure/dep"), model: "azure/dep")
        let stream = try old.provider.makeRequest(try ProviderTest.call(#"{"model":"g","stream":true,"messages":[]}"#), plan: old)
        XCTAssertTrue(stream.uri.hasSuffix("?api-version=2023-07-01-preview"))
        XCTAssertFalse(String(buffer: stream.body).contains("stream_options"), "versions before 2024-09-01 refuse stream_options")
        let newStream = try plan.provider.makeRequest(try ProviderTest.call(#"{"model":"g","stream":true,"messages":[]}"#), plan: plan)
        XCTAssertTrue(String(buffer: newStream.body).contains(#""stream_options":{"include_usage":true}"#))

        XCTAssertThrowsError(try registry.plan(ProviderTest.deployment("azure/dep"), model: "azure/dep"), "no api_base anywhere")
    }

    func testAzureADTokenIsABearerTokenAndAnApiKeyWins() throws {
        let token = try registry.plan(ProviderTest.deployment("azure/d", base: "https://r.openai.azure.com", adToken: "ad-tok"), model: "azure/d")
        XCTAssertEqual(token.headers.first(name: "authorization"), "Bearer ad-tok")
        XCTAssertNil(token.headers.first(name: "api-key"))
        let both = try registry.plan(ProviderTest.deployment("azure/d", base: "https://r.openai.azure.com", key: "k", adToken: "ad-tok"), model: "azure/d")
        XCTAssertEqual(both.headers.first(name: "api-key"), "k")
        XCTAssertNil(both.headers.first(name: "authorization"))
        let envToken = ProviderRegistry(environment: ["AZURE_AD_TOKEN": "env-tok"])
        let fromEnv = try envToken.plan(ProviderTest.deployment("azure/d", base: "https://r.openai.azure.com"), model: "azure/d")
        XCTAssertEqual(fromEnv.headers.first(name: "authorization"), "Bearer env-tok")
    }

    func testContentFilterAndContextWindowErrorsAreRecognised() {
        let t = AzureResponseTranslator(hideUsageChunk: false)
        let filtered = #"{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#
        XCTAssertEqual(t.classifyError(status: 400, body: ByteBuffer(string: filtered)), .contentPolicy)
        let innerOnly = #"{"error":{"message":"x","code":"400","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#
        XCTAssertEqual(t.classifyError(status: 400, body: ByteBuffer(string: innerOnly)), .contentPolicy)
        let long = #"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#
        XCTAssertEqual(t.classifyError(status: 400, body: ByteBuffer(string: long)), .contextWindowExceeded)
        XCTAssertEqual(t.classifyError(status: 429, body: ByteBuffer(string: #"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded call rate limit."}}"#)), .rateLimit)
        XCTAssertEqual(String(buffer: t.clientErrorBody(status: 400, body: ByteBuffer(string: filtered))!), filtered, "OpenAI-shaped errors are relayed")
        let wrapped = t.clientErrorBody(status: 401, body: ByteBuffer(string: #"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#))!
        XCTAssertEqual(String(buffer: wrapped), #"{"error":{"message":"Access denied due to invalid subscription key.","type":"authentication_error","param":null,"code":"401"}}"#)
    }
}
