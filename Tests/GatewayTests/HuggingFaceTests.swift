import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// `huggingface/` deployments end to end against a fake TGI server / Inference Endpoint.
final class HuggingFaceTests: XCTestCase {
    static func config(_ tgi: FakeTGIServer) -> String {
        #"""
        model_list:
          - model_name: mistral-7b
            litellm_params:
              model: "huggingface/mistralai/Mistral-7B-Instruct-v0.1"
              api_base: "\#(tgi.baseURL)"
              api_key: hf-token
              initial_prompt_value: "\n"
              roles: {"system":{"pre_message":"<|im_start|>system\n", "post_message":"<|im_end|>"}, "assistant":{"pre_message":"<|im_start|>assistant\n","post_message":"<|im_end|>"}, "user":{"pre_message":"<|im_start|>user\n","post_message":"<|im_end|>"}}
              final_prompt_value: "\n"
              bos_token: " "
              eos_token: " "
              max_tokens: 4096
          - model_name: tgi-chat
            litellm_params: {model: huggingface/tgi, api_base: "\#(tgi.baseURL)"}
          - model_name: codebert
            litellm_params: {model: huggingface/microsoft/codebert-base, api_base: "\#(tgi.baseURL)", api_key: hf-token}
        """#
    }

    func testTemplatedChatGoesToGenerateWithTheExactPrompt() async throws {
        let tgi = try await FakeTGIServer()
        let gateway = try await GatewayHarness(yaml: Self.config(tgi))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"mistral-7b","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"Hi"}],"temperature":0.7}"#)
        XCTAssertEqual(r.status, 200, r.body)
        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(answer["model"]?.stringValue, "mistralai/Mistral-7B-Instruct-v0.1")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello from fake TGI")
        XCTAssertEqual(answer["usage"]?["completion_tokens"]?.intValue, FakeTGIServer.generatedTokens)
        let sent = try XCTUnwrap(tgi.requests.last)
        XCTAssertEqual(sent.uri, "/generate")
        XCTAssertEqual(sent.header("authorization"), "Bearer hf-token")
        XCTAssertEqual(sent.body, #"{"inputs":" \n<|im_start|>system\nBe brief<|im_end|><|im_start|>user\nHi<|im_end|>\n","parameters":{"max_new_tokens":4096,"temperature":0.7,"return_full_text":false,"details":true}}"#)
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage?.completionTokens, FakeTGIServer.generatedTokens)
        XCTAssertEqual(records.first?.usage?.estimated, true, "TGI does not count the prompt: estimated")
        await gateway.shutdown()
        await tgi.shutdown()
    }

    func testGenerateStreamReachesTheClientTokenByToken() async throws {
        let tgi = try await FakeTGIServer(eventDelay: .milliseconds(300))
        let gateway = try await GatewayHarness(yaml: Self.config(tgi))
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"mistral-7b","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#)
        XCTAssertEqual(try client.readHead().status, 200)
        let first = try XCTUnwrap(try client.readChunk())
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.25, "the first token arrives before TGI sends the next")
        XCTAssertTrue(first.contains(#""content":"Hello""#), first)
        var all = first
        while let chunk = try client.readChunk() { all += chunk }
        XCTAssertTrue(all.hasSuffix("data: [DONE]\n\n"))
        XCTAssertFalse(all.contains("</s>"), "special tokens are not text")
        XCTAssertEqual(tgi.requests.last?.uri, "/generate_stream")
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage?.completionTokens, FakeTGIServer.generatedTokens)
        await gateway.shutdown()
        await tgi.shutdown()
    }

    func testMessagesAPIEmbeddingsAndErrors() async throws {
        let tgi = try await FakeTGIServer(tokenVectors: true)
        let gateway = try await GatewayHarness(yaml: Self.config(tgi), environment: ["HUGGINGFACE_API_KEY": "hf-token"])
        let chat = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"tgi-chat","messages":[{"role":"user","content":"Hi"}]}"#)
        XCTAssertEqual(chat.status, 200, chat.body)
        XCTAssertEqual(try JSONValue.parse(chat.body)["model"]?.stringValue, "tgi")
        XCTAssertEqual(tgi.requests.last?.uri, "/v1/chat/completions")
        XCTAssertEqual(tgi.requests.last?.header("authorization"), "Bearer hf-token", "HUGGINGFACE_API_KEY when the config has no api_key")

        let e = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"codebert","input":"def f(): pass"}"#)
        XCTAssertEqual(e.status, 200, e.body)
        XCTAssertEqual(tgi.requests.last?.uri, "/")
        XCTAssertEqual(tgi.requests.last?.body, #"{"inputs":["def f(): pass"]}"#)
        XCTAssertEqual(try JSONValue.parse(e.body)["data"]?.arrayValue?.first?["embedding"], .array([.double(0.25), .double(2.0)]), "token vectors are mean-pooled")

        let tooLong = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"mistral-7b","messages":[{"role":"user","content":"TOO_LONG"}]}"#)
        XCTAssertEqual(tooLong.status, 422)
        let error = try JSONValue.parse(tooLong.body)["error"]
        XCTAssertEqual(error?["code"]?.stringValue, "422")
        XCTAssertTrue(error?["message"]?.stringValue?.contains("must be <= 4096") ?? false, tooLong.body)
        let records = await gateway.records.wait(for: 3)
        XCTAssertEqual(records.last?.failure?.name, "context_window_exceeded")
        await gateway.shutdown()
        await tgi.shutdown()
    }
}
