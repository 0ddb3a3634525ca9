import XCTest
import OpenAIWire
import SwitchboardTesting

/// Chat, completion and embedding calls relayed to a fake OpenAI upstream over real sockets.
final class ChatRelayTests: XCTestCase {
    func testChatCompletionIsRelayedWithDeploymentParams() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: gpt-4o
                litellm_params:
                  model: openai/gpt-4o-2024-08-06
                  api_base: \(upstream.baseURL)
                  api_key: os.environ/TEST_OPENAI_KEY
                  organization: org-switchboard
                  extra_headers: {"AI-Resource-Group": "team-a", "Bad Header": "x"}
                  temperature: 0.2
                  max_tokens: 20
                  seed: 12
            """, environment: ["TEST_OPENAI_KEY": "sk-test-123"])
        let response = try gateway.request("POST", "/v1/chat/completions", body: """
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.9, "metadata": {"trace": "x"}}
            """)
        XCTAssertEqual(response.status, 200, response.body)
        let json = try JSONValue.parse(response.body)
        XCTAssertEqual(json["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello from fake upstream")
        XCTAssertEqual(response.header("x-litellm-model-group"), "gpt-4o")
        XCTAssertNotNil(response.header("x-litellm-model-id"))
        XCTAssertEqual(response.header("x-litellm-call-id")?.count, 36)
        XCTAssertNotNil(Double(response.header("x-litellm-overhead-duration-ms") ?? ""))
        XCTAssertEqual(response.header("content-type"), "application/json")

        let sent = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(sent.method, "POST")
        XCTAssertEqual(sent.uri, "/v1/chat/completions")
        XCTAssertEqual(sent.header("authorization"), "Bearer sk-test-123")
        XCTAssertEqual(sent.header("openai-organization"), "org-switchboard")
        XCTAssertEqual(sent.header("AI-Resource-Group"), "team-a")
        XCTAssertNil(sent.header("Bad Header"), "a header name with a space is not valid HTTP: skipped with a warning")
        let body = try XCTUnwrap(sent.json)
        XCTAssertEqual(body["model"]?.stringValue, "gpt-4o-2024-08-06")
        XCTAssertEqual(body["temperature"]?.doubleValue, 0.9, "the request overrides deployment defaults")
        XCTAssertEqual(body["max_tokens"]?.intValue, 20)
        XCTAssertEqual(body["seed"]?.intValue, 12)
        XCTAssertNil(body["metadata"], "gateway-only params never go upstream")
        XCTAssertEqual(body["messages"]?.arrayValue?.count, 1)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testEmbeddingsAndCompletionsAndAzureStylePath() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: embedding-model
                litellm_params:
                  model: xinference/bge-base-en
                  api_base: \(upstream.baseURL)
              - model_name: vllm-models
                litellm_params:
                  model: hosted_vllm/facebook/opt-125m
                  api_base: \(upstream.baseURL)
                  api_key: none
            """)
        let emb = try gateway.request("POST", "/embeddings", body: #"{"model":"embedding-model","input":["a","b"]}"#)
        XCTAssertEqual(emb.status, 200, emb.body)
        XCTAssertEqual(try JSONValue.parse(emb.body)["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(upstream.requests.last?.uri, "/v1/embeddings")
        XCTAssertEqual(upstream.requests.last?.json?["model"]?.stringValue, "bge-base-en")

        let cmpl = try gateway.request("POST", "/v1/completions", body: #"{"model":"vllm-models","prompt":"once upon"}"#)
        XCTAssertEqual(cmpl.status, 200, cmpl.body)
        XCTAssertEqual(try JSONValue.parse(cmpl.body)["object"]?.stringValue, "text_completion")
        XCTAssertEqual(upstream.requests.last?.uri, "/v1/completions")
        XCTAssertEqual(upstream.requests.last?.json?["model"]?.stringValue, "facebook/opt-125m")

        let azure = try gateway.request("POST", "/openai/deployments/vllm-models/chat/completions?api-version=2024-02-01",
                                        body: #"{"messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(azure.status, 200, azure.body)
        XCTAssertEqual(azure.header("x-litellm-model-group"), "vllm-models")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testKeepAliveConnectionsAreReused() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
            """)
        let client = try gateway.client()
        for _ in 0..<20 {
            let r = try client.request("POST", "/v1/chat/completions", body: #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
            XCTAssertEqual(r.status, 200)
        }
        XCTAssertEqual(upstream.requests.count, 20)
        XCTAssertEqual(upstream.acceptedConnections, 1, "one client connection, sequential requests: one pooled upstream connection")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testPipelinedRequestsAreAnsweredInOrder() async throws {
        let upstream = try await FakeOpenAIServer { request in
            let content = request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue ?? ""
            return .json(status: 200, body: FakeOpenAIServer.chatCompletion(model: "m", content: "echo " + content))
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
            """)
        let client = try gateway.client()
        var wire = ""
        for n in 0..<5 {
            let body = #"{"model":"m","messages":[{"role":"user","content":"\#(n)"}]}"#
            wire += "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        wire += "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
        try client.write(wire)
        for n in 0..<5 {
            let r = try client.readResponse()
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(try JSONValue.parse(r.body)["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "echo \(n)")
        }
        XCTAssertTrue(try client.readResponse().body.contains(#""id":"m""#))
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testDropParamsRemovesWhatTheProviderDoesNotTake() async throws {
        let upstream = try await FakeOpenAIServer()
        let yaml = { (drop: Bool) in """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
            litellm_settings:
              drop_params: \(drop ? "True" : "False")
            """ }
        let body = #"{"model":"m","messages":[{"role":"user","content":"x"}],"top_k":5,"temperature":0}"#
        let dropping = try await GatewayHarness(yaml: yaml(true))
        XCTAssertEqual(try dropping.request("POST", "/chat/completions", body: body).status, 200)
        XCTAssertNil(upstream.requests.last?.json?["top_k"])
        XCTAssertEqual(upstream.requests.last?.json?["temperature"]?.intValue, 0)
        let keeping = try await GatewayHarness(yaml: yaml(false))
        XCTAssertEqual(try keeping.request("POST", "/chat/completions", body: body).status, 200)
        XCTAssertEqual(upstream.requests.last?.json?["top_k"]?.intValue, 5)
        await dropping.shutdown()
        await keeping.shutdown()
        await upstream.shutdown()
    }

    func testMockResponseAnswersWithoutNetwork() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: demo
                litellm_params: {model: openai/gpt-4o, mock_response: "Hi there"}
              - model_name: emb
                litellm_params: {model: openai/text-embedding-3-small, mock_response: [0.5, 0.25]}
            router_settings: {num_retries: 0}
            """)
        let chat = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"demo","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(chat.status, 200)
        let json = try JSONValue.parse(chat.body)
        XCTAssertEqual(json["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hi there")
        XCTAssertEqual(json["model"]?.stringValue, "gpt-4o", "answers name the provider's model, as the provider would")
        XCTAssertNotNil(json["usage"]?["total_tokens"]?.intValue)
        let emb = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"emb","input":["a","b","c"]}"#)
        let data = try JSONValue.parse(emb.body)["data"]?.arrayValue
        XCTAssertEqual(data?.count, 3)
        XCTAssertEqual(data?.first?["embedding"], .array([.double(0.5), .double(0.25)]))
        let perRequest = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"demo","messages":[{"role":"user","content":"x"}],"mock_response":"litellm.RateLimitError"}"#)
        XCTAssertEqual(perRequest.status, 429)
        XCTAssertEqual(perRequest.header("retry-after"), "1")
        XCTAssertEqual(perRequest.header("x-litellm-model-group"), "demo")
        XCTAssertEqual(try JSONValue.parse(perRequest.body)["error"]?["type"]?.stringValue, "rate_limit_error")
        await gateway.shutdown()
    }
}
