import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// SageMaker end to end: the gateway against a fake SageMaker Runtime (SigV4 checked) with a
/// TGI container behind it.
final class SageMakerTests: XCTestCase {
    static func config(_ sagemaker: FakeAWSServer) -> String {
        """
        model_list:
          - model_name: tgi
            litellm_params:
              model: sagemaker/my-tgi-endpoint
              api_base: "\(sagemaker.endpointURL)"
              aws_access_key_id: AKIDEXAMPLE
              aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
              aws_region_name: us-east-1
              initial_prompt_value: "<s>"
              roles:
                user: {pre_message: "[INST] ", post_message: " [/INST]"}
          - model_name: sagemaker-embeddings
            litellm_params: {model: sagemaker/gpt-j-embeddings, api_base: "\(sagemaker.endpointURL)", aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", aws_region_name: us-east-1}
        """
    }

    func testPlainChatUsesTheTemplateAndIsSignedForSageMaker() async throws {
        let sagemaker = try await FakeSageMakerServer.start()
        let gateway = try await GatewayHarness(yaml: Self.config(sagemaker))
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"tgi","max_tokens":20,"messages":[{"role":"user","content":"Hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello from fake SageMaker")
        XCTAssertEqual(answer["model"]?.stringValue, "my-tgi-endpoint")
        let sent = try XCTUnwrap(sagemaker.requests.first)
        XCTAssertEqual(sent.uri, "/endpoints/my-tgi-endpoint/invocations")
        XCTAssertEqual(sent.body, #"{"inputs":"<s>[INST] Hi [/INST]","parameters":{"max_new_tokens":20}}"#)
        XCTAssertTrue(sent.header("authorization")?.contains("/us-east-1/sagemaker/aws4_request") ?? false)
        XCTAssertNil(sagemaker.signatureProblem(sent))
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage?.estimated, true, "TGI reports no prompt tokens: estimated")
        await gateway.shutdown()
        await sagemaker.shutdown()
    }

    func testStreamingChatFromTheResponseStream() async throws {
        let sagemaker = try await FakeSageMakerServer.start { _ in
            .eventStream(messages: FakeSageMakerServer.payloadParts(FakeSageMakerServer.tgiLines(words: ["one", " two", " three"]), cutEvery: 29), delay: .milliseconds(200))
        }
        let gateway = try await GatewayHarness(yaml: Self.config(sagemaker))
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"tgi","stream":true,"messages":[{"role":"user","content":"count"}]}"#)
        XCTAssertEqual(try client.readHead().status, 200)
        let first = try XCTUnwrap(try client.readChunk())
        let firstAt = Date().timeIntervalSince(started)
        var rest: [String] = []
        while let chunk = try client.readChunk() { rest.append(chunk) }
        let total = Date().timeIntervalSince(started)
        // The first TGI line spans the first five 29-byte parts (200 ms apart): it is relayed as
        // soon as it is complete, long before the last part is sent.
        XCTAssertTrue(first.contains(#""content":"one""#), first)
        XCTAssertLessThan(firstAt, total - 1.0, "the first token is relayed before the rest is sent")
        let all = ([first] + rest).joined()
        XCTAssertTrue(all.hasSuffix("data: [DONE]\n\n"), all)
        let text = all.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }
            .compactMap { try? JSONValue.parse(String($0.dropFirst(6)))["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
        XCTAssertEqual(text, "one two three")
        XCTAssertEqual(sagemaker.requests.first?.uri, "/endpoints/my-tgi-endpoint/invocations-response-stream")
        XCTAssertEqual(sagemaker.requests.first?.json?["stream"]?.boolValue, true)
        await gateway.shutdown()
        await sagemaker.shutdown()
    }

    func testEmbeddingsAndErrors() async throws {
        let sagemaker = try await FakeSageMakerServer.start { request in
            if request.body.contains("boom") {
                return .json(status: 424, body: #"{"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error (422) from primary with message \"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048\""}"#, errorType: "ModelError")
            }
            return FakeSageMakerServer.standardResponse(request)
        }
        let gateway = try await GatewayHarness(yaml: Self.config(sagemaker))
        let e = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"sagemaker-embeddings","input":["a","b"]}"#)
        XCTAssertEqual(e.status, 200, e.body)
        XCTAssertEqual(try JSONValue.parse(e.body)["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(sagemaker.requests.last?.body, #"{"text_inputs":["a","b"]}"#)
        let error = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"tgi","messages":[{"role":"user","content":"boom"}]}"#)
        XCTAssertEqual(error.status, 424, error.body)
        XCTAssertEqual(try JSONValue.parse(error.body)["error"]?["type"]?.stringValue, "context_window_exceeded")
        let records = await gateway.records.wait(for: 2)
        XCTAssertEqual(records.last?.failure?.name, "context_window_exceeded")
        await gateway.shutdown()
        await sagemaker.shutdown()
    }
}
