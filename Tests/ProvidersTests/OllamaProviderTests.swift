import CallModel
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig
import XCTest

final class OllamaProviderTests: XCTestCase {
    func plan(_ model: String, base: String? = nil, env: [String: String] = [:], defaults: [JSONMember] = []) throws -> DeploymentPlan {
        try ProviderRegistry(environment: env).plan(ProviderTest.deployment(model, base: base, defaults: defaults), model: model)
    }

    func testChatRequestTranslatesParametersMessagesAndFormat() throws {
        let p = try plan("ollama_chat/llama3.2", defaults: [JSONMember("num_ctx", .int(8192)), JSONMember("temperature", .double(0.9))])
        XCTAssertEqual(p.target, UpstreamTarget(tls: false, host: "localhost", port: 11434))
        let body = #"""
        {"model":"g","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"}],
         "temperature":0.2,"max_tokens":50,"top_p":0.9,"seed":7,"stop":"END","response_format":{"type":"json_object"},"n":1,"user":"u","metadata":{"a":1},"keep_alive":"5m"}
        """#
        let r = try p.provider.makeRequest(try ProviderTest.call(body), plan: p)
        XCTAssertEqual(r.uri, "/api/chat")
        XCTAssertEqual(r.headers.first(name: "host"), "localhost:11434")
        XCTAssertNil(r.headers.first(name: "authorization"))
        let expected = #"{"model":"llama3.2","messages":[{"role":"system","content":"Be brief"},{"role":"user","content":"What is this?","images":["iVBORw0"]},{"role":"assistant","content":"","tool_calls":[{"function":{"name":"weather","arguments":{"city":"Paris"}}}]},{"role":"tool","content":"sunny","tool_name":"weather"}],"stream":false,"format":"json","keep_alive":"5m","options":{"num_ctx":8192,"temperature":0.2,"num_predict":50,"top_p":0.9,"seed":7,"stop":["END"]}}"#
        XCTAssertEqual(String(buffer: r.body), expected)
    }

    func testStreamsToolsSchemasAndBaseFromEnvironment() throws {
        let p = try plan("ollama/llama3.2", env: ["OLLAMA_API_BASE": "http://gpu-box:11434/"])
        XCTAssertEqual(p.target, UpstreamTarget(tls: false, host: "gpu-box", port: 11434))
        let body = #"{"model":"g","stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}"#
        let r = try p.provider.makeRequest(try ProviderTest.call(body), plan: p)
        XCTAssertEqual(r.uri, "/api/chat", "ollama/ chat goes to /api/chat too")
        XCTAssertEqual(String(buffer: r.body), #"{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"format":{"type":"object"}}"#)
        let own = try plan("ollama/m", base: "https://ollama.example.com/api", env: ["OLLAMA_API_KEY": "ok"])
        XCTAssertEqual(own.headers.first(name: "authorization"), "Bearer ok")
        XCTAssertEqual(try own.provider.makeRequest(try ProviderTest.call(#"{"model":"g","messages":[]}"#), plan: own).uri, "/api/chat", "a base ending in /api is not doubled")
    }

    func testEmbeddingsAndTextCompletionRequests() throws {
        let p = try plan("ollama/nomic-embed-text")
        let e = try p.provider.makeRequest(try ProviderTest.call(#"{"model":"g","input":"hello","encoding_format":"float"}"#, endpoint: .embeddings), plan: p)
        XCTAssertEqual(e.uri, "/api/embed")
        XCTAssertEqual(String(buffer: e.body), #"{"model":"nomic-embed-text","input":["hello"]}"#)
        let g = try p.provider.makeRequest(try ProviderTest.call(#"{"model":"g","prompt":["Once"],"max_tokens":3}"#, endpoint: .completions), plan: p)
        XCTAssertEqual(g.uri, "/api/generate")
        XCTAssertEqual(String(buffer: g.body), #"{"model":"nomic-embed-text","prompt":"Once","stream":false,"options":{"num_predict":3}}"#)
        XCTAssertThrowsError(try p.provider.makeRequest(try ProviderTest.call(#"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#), plan: p))
    }

    // MARK: Translator

    static func line(_ content: String) -> String {
        #"{"model":"llama3.2","created_at":"2024-07-22T20:33:28Z","message":{"role":"assistant","content":"\#(content)"},"done":false}"# + "\n"
    }
    static let last = #"{"model":"llama3.2","created_at":"2024-07-22T20:33:29Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":3}"# + "\n"

    func testStreamAtEverySplitPointGivesWholeChunksUsageAndDone() throws {
        let wire = Self.line("Hel") + Self.line("lo \\\"x\\\"\\n") + "\r\n" + Self.last
        let n = wire.utf8.count
        for cut in 0...n {
            for wantsUsage in [false, true] {
                let t = OllamaResponseTranslator(mode: .chat, model: "llama3.2", stream: true, clientWantsUsage: wantsUsage)
                let pieces = try ProviderTest.feed(t, wire, cuts: [cut])
                for p in pieces {
                    XCTAssertTrue(p.hasPrefix("data: ") && p.hasSuffix("\n\n"), "cut \(cut): whole events only: \(p)")
                }
                let out = pieces.joined()
                XCTAssertEqual(try ProviderTest.streamedText(out), "Hello \"x\"\n", "cut \(cut)")
                let events = try ProviderTest.events(out)
                XCTAssertNil(events.last!, "ends with [DONE]")
                XCTAssertEqual(events.first??["choices"]?.arrayValue?.first?["delta"]?["role"]?.stringValue, "assistant")
                XCTAssertEqual(events.first??["object"]?.stringValue, "chat.completion.chunk")
                XCTAssertEqual(events.first??["model"]?.stringValue, "llama3.2")
                let finish = events.compactMap { $0?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
                XCTAssertEqual(finish, ["stop"])
                XCTAssertEqual(t.usage, TokenUsage(promptTokens: 26, completionTokens: 3))
                let usageChunk = events.dropLast().last!!
                if wantsUsage {
                    XCTAssertEqual(usageChunk["choices"], .array([]))
                    XCTAssertEqual(usageChunk["usage"]?["total_tokens"]?.intValue, 29)
                } else {
                    XCTAssertNil(usageChunk["usage"])
                }
            }
        }
    }

    func testEachLineIsEmittedWhenItCompletes() throws {
        let t = OllamaResponseTranslator(mode: .chat, model: "m", stream: true, clientWantsUsage: false)
        var emitted: [String] = []
        try t.stream(ByteBuffer(string: String(Self.line("a").dropLast()))) { emitted.append(String(buffer: $0)) }
        XCTAssertTrue(emitted.isEmpty, "a line without its newline is not complete yet")
        try t.stream(ByteBuffer(string: "\n")) { emitted.append(String(buffer: $0)) }
        XCTAssertEqual(emitted.count, 1)
        XCTAssertEqual(try ProviderTest.streamedText(emitted[0]), "a")
    }

    func testStreamedToolCallsAndErrorLines() throws {
        let call = #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"weather","arguments":{"city":"Paris"}}}]},"done":false}"# + "\n"
        let t = OllamaResponseTranslator(mode: .chat, model: "m", stream: true, clientWantsUsage: false)
        let events = try ProviderTest.events(try ProviderTest.feed(t, call + Self.last, cuts: []).joined())
        let toolCall = events.compactMap { $0?["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue?.first }.first
        XCTAssertEqual(toolCall?["index"]?.intValue, 0)
        XCTAssertEqual(toolCall?["type"]?.stringValue, "function")
        XCTAssertEqual(toolCall?["function"]?["arguments"]?.stringValue, #"{"city":"Paris"}"#)
        XCTAssertTrue(toolCall?["id"]?.stringValue?.hasPrefix("call_") ?? false)
        XCTAssertEqual(events.compactMap { $0?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }, ["tool_calls"])

        let broken = OllamaResponseTranslator(mode: .chat, model: "m", stream: true, clientWantsUsage: false)
        var emitted = 0
        XCTAssertThrowsError(try broken.stream(ByteBuffer(string: Self.line("a") + #"{"error":"an error was encountered while running the model"}"# + "\n")) { _ in emitted += 1 }) { error in
            guard case UpstreamFailure.status(let s)? = error as? UpstreamFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(s.status, 500)
            XCTAssertTrue(String(buffer: s.clientBody!).contains("an error was encountered"))
        }
        XCTAssertEqual(emitted, 1, "what came before the error line is still delivered")
        let cut = OllamaResponseTranslator(mode: .chat, model: "m", stream: true, clientWantsUsage: false)
        XCTAssertThrowsError(try ProviderTest.feed(cut, Self.line("a"), cuts: []), "a stream without its done line is broken")
    }

    func testPlainAnswersGenerateAndEmbeddings() throws {
        let chat = OllamaResponseTranslator(mode: .chat, model: "asked", stream: false, clientWantsUsage: false)
        let answer = try ProviderTest.json(try chat.translate(ByteBuffer(string: #"{"model":"llama3.2:latest","created_at":"x","message":{"role":"assistant","content":"Hi there"},"done":true,"done_reason":"length","prompt_eval_count":10,"eval_count":2}"#)))
        XCTAssertEqual(answer["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(answer["model"]?.stringValue, "llama3.2:latest")
        XCTAssertTrue(answer["id"]?.stringValue?.hasPrefix("chatcmpl-") ?? false)
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hi there")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "length")
        XCTAssertEqual(answer["usage"]?["prompt_tokens"]?.intValue, 10)
        XCTAssertEqual(answer["usage"]?["total_tokens"]?.intValue, 12)
        XCTAssertEqual(chat.usage, TokenUsage(promptTokens: 10, completionTokens: 2))

        let gen = OllamaResponseTranslator(mode: .generate, model: "m", stream: false, clientWantsUsage: false)
        let text = try ProviderTest.json(try gen.translate(ByteBuffer(string: #"{"model":"m","response":"upon a time","done":true,"done_reason":"stop","context":[1],"prompt_eval_count":3,"eval_count":4}"#)))
        XCTAssertEqual(text["object"]?.stringValue, "text_completion")
        XCTAssertEqual(text["choices"]?.arrayValue?.first?["text"]?.stringValue, "upon a time")

        let embed = OllamaResponseTranslator(mode: .embed, model: "m", stream: false, clientWantsUsage: false)
        let list = try embed.translate(ByteBuffer(string: #"{"model":"nomic","embeddings":[[0.010071029, -0.0017594862],[1e-3,2]],"total_duration":1,"prompt_eval_count":8}"#))
        XCTAssertEqual(String(buffer: list), #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.010071029, -0.0017594862]},{"object":"embedding","index":1,"embedding":[1e-3,2]}],"model":"nomic","usage":{"prompt_tokens":8,"total_tokens":8}}"#, "vectors are copied as written")
        XCTAssertEqual(embed.usage, TokenUsage(promptTokens: 8, completionTokens: 0))
    }

    func testErrorsAreOpenAIShapedAndClassified() {
        let t = OllamaResponseTranslator(mode: .chat, model: "m", stream: false, clientWantsUsage: false)
        let notFound = ByteBuffer(string: #"{"error":"model \"nope\" not found, try pulling it first"}"#)
        XCTAssertEqual(t.classifyError(status: 404, body: notFound), .notFound)
        XCTAssertEqual(String(buffer: t.clientErrorBody(status: 404, body: notFound)!), #"{"error":{"message":"model \"nope\" not found, try pulling it first","type":"not_found_error","param":null,"code":"404"}}"#)
        XCTAssertEqual(t.classifyError(status: 400, body: ByteBuffer(string: #"{"error":"the input length exceeds the context length"}"#)), .contextWindowExceeded)
        XCTAssertEqual(t.classifyError(status: 500, body: ByteBuffer(string: #"{"error":"llama runner process has terminated"}"#)), .serverError)
    }
}
