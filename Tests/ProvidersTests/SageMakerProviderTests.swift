import CallModel
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig
import XCTest

/// SageMaker (TGI container): requests, prompt templates, answers and the response stream.
final class SageMakerProviderTests: XCTestCase {
    static let env = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION_NAME": "us-east-1"]

    func deployment(_ model: String, configure: (inout LitellmParams) -> Void = { _ in }) -> Deployment {
        var p = LitellmParams(model: model)
        configure(&p)
        return Deployment(modelName: "g", params: p, modelInfo: ModelInfo(id: "id"))
    }

    func call(_ body: String, endpoint: Endpoint = .chatCompletions, stream: Bool = false) throws -> ProviderCall {
        let buffer = ByteBuffer(string: body)
        return ProviderCall(endpoint: endpoint, body: buffer, scan: try JSONScanner.scanObject(buffer), stream: stream, dropParams: false)
    }

    func testInvokeEndpointRequestIsExactAndSignedForSageMaker() throws {
        let registry = ProviderRegistry(environment: Self.env)
        let plan = try registry.plan(deployment("sagemaker/my-tgi-endpoint"), model: "sagemaker/my-tgi-endpoint")
        XCTAssertEqual(plan.target, UpstreamTarget(tls: true, host: "runtime.sagemaker.us-east-1.amazonaws.com", port: 443))
        let provider = SageMakerProvider(environment: Self.env)
        let r = try provider.makeRequest(call(#"{"model":"g","max_tokens":50,"temperature":0,"stop":["\n\n"],"messages":[{"role":"system","content":"Be kind."},{"role":"user","content":"Hi"}]}"#), plan: plan)
        XCTAssertEqual(r.uri, "/endpoints/my-tgi-endpoint/invocations")
        XCTAssertEqual(String(buffer: r.body), #"{"inputs":"Be kind. Hi","parameters":{"max_new_tokens":50,"temperature":0.01,"stop":["\n\n"]}}"#)
        XCTAssertEqual(r.headers.first(name: "host"), "runtime.sagemaker.us-east-1.amazonaws.com")
        XCTAssertTrue(r.headers.first(name: "authorization")!.contains("Credential=AKIDENV/") && r.headers.first(name: "authorization")!.contains("/us-east-1/sagemaker/aws4_request"))

        let stream = try provider.makeRequest(call(#"{"messages":[{"role":"user","content":"Hi"}]}"#, stream: true), plan: plan)
        XCTAssertEqual(stream.uri, "/endpoints/my-tgi-endpoint/invocations-response-stream")
        XCTAssertEqual(String(buffer: stream.body), #"{"inputs":"Hi","parameters":{},"stream":true}"#)
        XCTAssertEqual(stream.headers.first(name: "accept"), "application/vnd.amazon.eventstream")

        let embed = try provider.makeRequest(call(#"{"input":["a","b"]}"#, endpoint: .embeddings), plan: plan)
        XCTAssertEqual(String(buffer: embed.body), #"{"text_inputs":["a","b"]}"#)
    }

    func testPromptTemplatesFollowLiteLLMsCustomPrompt() {
        let template = PromptTemplate(
            initialPromptValue: "You are a good assistant.\n",
            roles: ["system": .init(preMessage: "[INST] <<SYS>>\n", postMessage: "\n<</SYS>>\n [/INST]\n"),
                    "user": .init(preMessage: "[INST] ", postMessage: " [/INST]\n"),
                    "assistant": .init(preMessage: "", postMessage: "\n")],
            finalPromptValue: "Now answer:", bosToken: "<s>", eosToken: "</s>")
        let messages: [JSONValue] = [
            .object([JSONMember("role", .string("system")), JSONMember("content", .string("Sys"))]),
            .object([JSONMember("role", .string("user")), JSONMember("content", .string("Q1"))]),
            .object([JSONMember("role", .string("assistant")), JSONMember("content", .string("A1"))]),
            .object([JSONMember("role", .string("system")), JSONMember("content", .string("Again"))]),
        ]
        XCTAssertEqual(
            SageMakerTGIRequest.prompt(messages, template: template),
            "<s>You are a good assistant.\n[INST] <<SYS>>\nSys\n<</SYS>>\n [/INST]\n[INST] Q1 [/INST]\nA1\n</s><s>[INST] <<SYS>>\nAgain\n<</SYS>>\n [/INST]\nNow answer:")
        XCTAssertEqual(SageMakerTGIRequest.prompt(messages, template: nil), "Sys Q1 A1 Again")
    }

    func testGeneratedTextBecomesAChatCompletion() throws {
        let t = SageMakerResponseTranslator(endpoint: .chatCompletions, model: "my-tgi-endpoint", streaming: false, includeUsage: false)
        let out = try JSONValue.parse(String(buffer: try t.translate(ByteBuffer(string: #"[{"generated_text":"Hello there"}]"#))))
        XCTAssertEqual(out["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(out["model"]?.stringValue, "my-tgi-endpoint")
        XCTAssertEqual(out["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello there")
        XCTAssertEqual(out["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "stop")
        XCTAssertNil(t.usage, "TGI gives no prompt token count: the gateway estimates")
        XCTAssertEqual(t.contentBytes, 11)
        let detailed = SageMakerResponseTranslator(endpoint: .chatCompletions, model: "m", streaming: false, includeUsage: false)
        let d = try JSONValue.parse(String(buffer: try detailed.translate(ByteBuffer(string: #"[{"generated_text":"x","details":{"finish_reason":"length","generated_tokens":5,"prefill":[{"id":1},{"id":2}]}}]"#))))
        XCTAssertEqual(d["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "length")
        XCTAssertEqual(detailed.usage, TokenUsage(promptTokens: 2, completionTokens: 5))

        let embeddings = SageMakerResponseTranslator(endpoint: .embeddings, model: "gpt-j", streaming: false, includeUsage: false)
        let e = try JSONValue.parse(String(buffer: try embeddings.translate(ByteBuffer(string: #"{"embedding":[[0.5,0.25],[0.125,1.0]]}"#))))
        XCTAssertEqual(e["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(e["object"]?.stringValue, "list")
    }

    static func payloadPart(_ text: String) -> AWSEventStreamMessage {
        AWSEventStreamMessage(
            stringHeaders: [(":event-type", "PayloadPart"), (":content-type", "application/json"), (":message-type", "event")],
            payload: #"{"Bytes":"\#(BasicCredentials.base64(Array(text.utf8)))"}"#)
    }

    static let tgi = [
        #"data:{"index":1,"token":{"id":1,"text":"Hel","logprob":-0.1,"special":false},"generated_text":null,"details":null}"# + "\n\n",
        #"data:{"index":2,"token":{"id":2,"text":"lo","logprob":-0.1,"special":false},"generated_text":null,"details":null}"# + "\n\n",
        #"data:{"index":3,"token":{"id":3,"text":"</s>","logprob":-0.1,"special":true},"generated_text":"Hello","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null}}"# + "\n\n",
    ].joined()

    func testTheResponseStreamAtEverySplitPoint() throws {
        // SageMaker cuts TGI's lines anywhere: parts of 23 bytes, then the event stream split anywhere.
        let bytes = Array(Self.tgi.utf8)
        let parts = stride(from: 0, to: bytes.count, by: 23).map { Self.payloadPart(String(decoding: bytes[$0..<min(bytes.count, $0 + 23)], as: UTF8.self)) }
        let wire = parts.flatMap { Array(buffer: $0.encoded()) }
        for cut in stride(from: 0, through: wire.count, by: 3) {
            let t = SageMakerResponseTranslator(endpoint: .chatCompletions, model: "m", streaming: true, includeUsage: false)
            var pieces: [String] = []
            try t.stream(ByteBuffer(bytes: wire[..<cut])) { pieces.append(String(buffer: $0)) }
            try t.stream(ByteBuffer(bytes: wire[cut...])) { pieces.append(String(buffer: $0)) }
            try t.streamEnd { pieces.append(String(buffer: $0)) }
            XCTAssertEqual(pieces.count, 4, "cut \(cut): two tokens, the finish chunk, [DONE]")
            let chunks = pieces.dropLast().map { try! JSONValue.parse(String($0.dropFirst(6).dropLast(2))) }
            XCTAssertEqual(chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined(), "Hello")
            XCTAssertEqual(chunks[0]["choices"]?.arrayValue?.first?["delta"]?["role"]?.stringValue, "assistant")
            XCTAssertEqual(chunks[2]["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "stop")
            XCTAssertEqual(pieces.last, "data: [DONE]\n\n")
        }
    }

    func testStreamErrorsEndTheStream() {
        let t = SageMakerResponseTranslator(endpoint: .chatCompletions, model: "m", streaming: true, includeUsage: false)
        let exception = AWSEventStreamMessage(
            stringHeaders: [(":exception-type", "ModelStreamError"), (":message-type", "exception")],
            payload: #"{"Message":"Your model failed","ErrorCode":"ModelStreamError"}"#)
        XCTAssertThrowsError(try t.stream(exception.encoded()) { _ in }) { error in
            guard case .status(let s) = error as? UpstreamFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(s.status, 500)
            XCTAssertTrue(String(buffer: s.clientBody ?? ByteBuffer()).contains("Your model failed"))
        }
        let tgiError = SageMakerResponseTranslator(endpoint: .chatCompletions, model: "m", streaming: true, includeUsage: false)
        XCTAssertThrowsError(try tgiError.stream(Self.payloadPart(#"data:{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048","error_type":"validation"}"# + "\n\n").encoded()) { _ in }) { error in
            guard case .status(let s) = error as? UpstreamFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(s.kind, .contextWindowExceeded)
        }
    }
}
