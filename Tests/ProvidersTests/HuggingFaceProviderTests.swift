import CallModel
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig
import XCTest

final class HuggingFaceProviderTests: XCTestCase {
    /// The seed document's template (custom_prompt_template.yaml).
    static let template = PromptTemplate(
        initialPromptValue: "\n",
        roles: [
            "system": .init(preMessage: "<|im_start|>system\n", postMessage: "<|im_end|>"),
            "assistant": .init(preMessage: "<|im_start|>assistant\n", postMessage: "<|im_end|>"),
            "user": .init(preMessage: "<|im_start|>user\n", postMessage: "<|im_end|>"),
        ],
        finalPromptValue: "\n", bosToken: "<s>", eosToken: "</s>")

    func testPromptTemplateIsAppliedAsLiteLLMDoes() throws {
        let messages = try JSONValue.parse(#"[{"role":"system","content":"Be brief"},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":[{"type":"text","text":"Again"}]},{"role":"tool","content":"t"}]"#).arrayValue!
        XCTAssertEqual(
            PromptTemplateRenderer.render(messages, template: Self.template),
            "<s>\n<|im_start|>system\nBe brief<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\nHello<|im_end|></s><|im_start|>user\nAgain<|im_end|>t\n")
        XCTAssertEqual(PromptTemplateRenderer.render(messages, template: nil), "Be brief Hi Hello Again t", "without a template: contents joined by spaces")
        let afterAssistant = try JSONValue.parse(#"[{"role":"assistant","content":"a"},{"role":"system","content":"s"}]"#).arrayValue!
        XCTAssertEqual(PromptTemplateRenderer.render(afterAssistant, template: Self.template), "<s>\n<|im_start|>assistant\na<|im_end|></s><s><|im_start|>system\ns<|im_end|>\n", "a system turn after an assistant reopens with bos_token")
    }

    func testTemplatedChatGoesToGenerateWithTGIParameters() throws {
        let registry = ProviderRegistry(environment: ["HUGGINGFACE_API_KEY": "env-key"])
        let d = ProviderTest.deployment("huggingface/mistralai/Mistral-7B-Instruct-v0.1", base: "https://ep.endpoints.huggingface.cloud", defaults: [JSONMember("max_tokens", .int(4096))], template: Self.template)
        let plan = try registry.plan(d, model: d.params.model)
        XCTAssertEqual(plan.headers.first(name: "authorization"), "Bearer env-key")
        let body = #"{"model":"g","messages":[{"role":"user","content":"Hi"}],"temperature":0,"top_p":1,"stop":"STOP","seed":3,"max_tokens":20}"#
        let r = try plan.provider.makeRequest(try ProviderTest.call(body), plan: plan)
        XCTAssertEqual(r.uri, "/generate")
        XCTAssertEqual(String(buffer: r.body), #"{"inputs":"<s>\n<|im_start|>user\nHi<|im_end|>\n","parameters":{"max_new_tokens":20,"temperature":0.01,"stop":["STOP"],"seed":3,"return_full_text":false,"details":true}}"#)
        let stream = try plan.provider.makeRequest(try ProviderTest.call(#"{"model":"g","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#), plan: plan)
        XCTAssertEqual(stream.uri, "/generate_stream")
        XCTAssertTrue(plan.provider.makeTranslator(try ProviderTest.call(body), plan: plan) is TGIResponseTranslator)
    }

    func testUntemplatedChatUsesTheMessagesAPIAndHostedUsesTheRouter() throws {
        let registry = ProviderRegistry(environment: ["HF_TOKEN": "hf-env"])
        let tgi = try registry.plan(ProviderTest.deployment("huggingface/tgi", base: "http://10.0.0.2:8080", key: "own"), model: "huggingface/tgi")
        XCTAssertEqual(tgi.headers.first(name: "authorization"), "Bearer own")
        let r = try tgi.provider.makeRequest(try ProviderTest.call(#"{"model":"g","messages":[{"role":"user","content":"Hi"}]}"#), plan: tgi)
        XCTAssertEqual(r.uri, "/v1/chat/completions")
        XCTAssertEqual(String(buffer: r.body), #"{"model":"tgi","messages":[{"role":"user","content":"Hi"}]}"#)

        let hosted = try registry.plan(ProviderTest.deployment("huggingface/together/deepseek-ai/DeepSeek-R1"), model: "huggingface/together/deepseek-ai/DeepSeek-R1")
        XCTAssertEqual(hosted.target, UpstreamTarget(tls: true, host: "router.huggingface.co", port: 443))
        XCTAssertEqual(hosted.headers.first(name: "authorization"), "Bearer hf-env")
        let h = try hosted.provider.makeRequest(try ProviderTest.call(#"{"model":"g","stream":true,"messages":[]}"#), plan: hosted)
        XCTAssertEqual(h.uri, "/v1/chat/completions")
        XCTAssertEqual(String(buffer: h.body), #"{"model":"deepseek-ai/DeepSeek-R1:together","stream":true,"messages":[],"stream_options":{"include_usage":true}}"#)
        XCTAssertThrowsError(try hosted.provider.makeRequest(try ProviderTest.call(#"{"model":"g","prompt":"x"}"#, endpoint: .completions), plan: hosted))
    }

    func testEmbeddingRequests() throws {
        let registry = ProviderRegistry(environment: [:])
        let hosted = try registry.plan(ProviderTest.deployment("huggingface/microsoft/codebert-base", key: "hf_LdS"), model: "huggingface/microsoft/codebert-base")
        let h = try hosted.provider.makeRequest(try ProviderTest.call(#"{"model":"g","input":"def f(): pass"}"#, endpoint: .embeddings), plan: hosted)
        XCTAssertEqual(h.uri, "/hf-inference/models/microsoft/codebert-base/pipeline/feature-extraction")
        XCTAssertEqual(String(buffer: h.body), #"{"inputs":["def f(): pass"]}"#)
        let ep = try registry.plan(ProviderTest.deployment("huggingface/microsoft/codebert-base", base: "https://uysneno1wv2wd4lw.us-east-1.aws.endpoints.huggingface.cloud", key: "hf_LdS"), model: "huggingface/microsoft/codebert-base")
        XCTAssertEqual(try ep.provider.makeRequest(try ProviderTest.call(#"{"model":"g","input":["a","b"]}"#, endpoint: .embeddings), plan: ep).uri, "/")
    }

    // MARK: Translators

    static func token(_ text: String, special: Bool = false) -> String {
        #"data:{"index":1,"token":{"id":1,"text":"\#(text)","logprob":-0.5,"special":\#(special)},"generated_text":null,"details":null}"# + "\n\n"
    }
    static let final = #"data:{"index":4,"token":{"id":2,"text":"</s>","logprob":-0.1,"special":true},"generated_text":"Hello world","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null}}"# + "\n\n"

    func testGenerateStreamAtEverySplitPoint() throws {
        let wire = Self.token("Hello") + Self.token(" wor") + Self.token("ld") + Self.final
        for cut in 0...wire.utf8.count {
            let t = TGIResponseTranslator(kind: .chat, model: "mistral", stream: true, clientWantsUsage: true, promptBytes: 400)
            let pieces = try ProviderTest.feed(t, wire, cuts: [cut])
            for p in pieces { XCTAssertTrue(p.hasPrefix("data: ") && p.hasSuffix("\n\n"), "cut \(cut): \(p)") }
            let out = pieces.joined()
            XCTAssertEqual(try ProviderTest.streamedText(out), "Hello world", "cut \(cut): the special </s> is not text")
            let events = try ProviderTest.events(out)
            XCTAssertNil(events.last!)
            XCTAssertEqual(events.first??["model"]?.stringValue, "mistral")
            XCTAssertEqual(events.compactMap { $0?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }, ["stop"])
            XCTAssertEqual(events.dropLast().last!!["usage"]?["completion_tokens"]?.intValue, 3)
            XCTAssertEqual(t.usage, TokenUsage(promptTokens: 100, completionTokens: 3, estimated: true))
        }
        let plain = TGIResponseTranslator(kind: .text, model: "m", stream: true, clientWantsUsage: false, promptBytes: 8)
        let text = try ProviderTest.feed(plain, Self.token("a").replacingOccurrences(of: "\n\n", with: "\r\n\r\n") + Self.final, cuts: [5]).joined()
        XCTAssertEqual(try ProviderTest.events(text).first??["object"]?.stringValue, "text_completion")
        XCTAssertEqual(try ProviderTest.streamedText(text), "a")
    }

    func testGenerateAnswersAndErrors() throws {
        let t = TGIResponseTranslator(kind: .chat, model: "mistral", stream: false, clientWantsUsage: false, promptBytes: 40)
        let answer = try ProviderTest.json(try t.translate(ByteBuffer(string: #"[{"generated_text":"Hi!","details":{"finish_reason":"length","generated_tokens":2}}]"#)))
        XCTAssertEqual(answer["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hi!")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "length")
        XCTAssertEqual(answer["usage"]?["prompt_tokens"]?.intValue, 10)
        XCTAssertEqual(t.usage, TokenUsage(promptTokens: 10, completionTokens: 2, estimated: true))

        let tooLong = ByteBuffer(string: #"{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`","error_type":"validation"}"#)
        XCTAssertEqual(t.classifyError(status: 422, body: tooLong), .contextWindowExceeded)
        let body = try ProviderTest.json(t.clientErrorBody(status: 422, body: tooLong)!)
        XCTAssertEqual(body["error"]?["code"]?.stringValue, "422")
        XCTAssertEqual(body["error"]?["type"]?.stringValue, "unprocessable_entity_error")
        XCTAssertTrue(body["error"]?["message"]?.stringValue?.hasPrefix("Input validation error") ?? false)
        XCTAssertEqual(t.classifyError(status: 503, body: ByteBuffer(string: #"{"error":"Model x is currently loading","estimated_time":20.0}"#)), .serverError)

        let broken = TGIResponseTranslator(kind: .chat, model: "m", stream: true, clientWantsUsage: false, promptBytes: 1)
        XCTAssertThrowsError(try ProviderTest.feed(broken, Self.token("a") + #"data:{"error":"Request failed during generation: Server error: CUDA out of memory","error_type":"generation"}"# + "\n\n", cuts: []))
    }

    func testEmbeddingsPerInputAndPerTokenArePooled() throws {
        let t = HuggingFaceEmbeddingTranslator(model: "bge", promptBytes: 40)
        let list = String(buffer: try t.translate(ByteBuffer(string: "[[0.1, -0.2],[3e-2,4]]")))
        XCTAssertEqual(list, #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1, -0.2]},{"object":"embedding","index":1,"embedding":[3e-2,4]}],"model":"bge","usage":{"prompt_tokens":10,"total_tokens":10}}"#)
        XCTAssertEqual(t.usage, TokenUsage(promptTokens: 10, completionTokens: 0, estimated: true))
        let single = try ProviderTest.json(try HuggingFaceEmbeddingTranslator(model: "m", promptBytes: 4).translate(ByteBuffer(string: "[0.5,1]")))
        XCTAssertEqual(single["data"]?.arrayValue?.count, 1)
        let pooled = try ProviderTest.json(try HuggingFaceEmbeddingTranslator(model: "m", promptBytes: 4).translate(ByteBuffer(string: "[[[[0.0,1.0],[1.0,3.0]]],[[[2.0,2.0]]]]")))
        XCTAssertEqual(pooled["data"]?.arrayValue?.map { $0["embedding"] }, [.array([.double(0.5), .double(2)]), .array([.double(2), .double(2)])])
    }
}
