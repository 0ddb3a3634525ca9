import CallModel
import NIOCore
import OpenAIWire
@testable import Providers
import XCTest

/// Anthropic answers and streams → OpenAI's, streams fed at every split point; error mapping.
final class AnthropicResponseTranslatorTests: XCTestCase {
    static func event(_ type: String, _ json: String) -> String { "event: \(type)\ndata: \(json)\n\n" }

    /// A recorded-style stream: text, then a tool call whose arguments arrive in fragments.
    static let toolStream = [
        event("message_start", #"{"type":"message_start","message":{"id":"msg_01A","type":"message","role":"assistant","model":"claude-3-5-sonnet-20240620","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2,"cache_read_input_tokens":100}}}"#),
        event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        event("ping", #"{"type": "ping"}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check"}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" \"the\" weather.\n"}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        event("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T","name":"get_weather","input":{}}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Par"}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\"}"}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        event("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02N","name":"now","input":{}}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
        event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#),
        event("message_stop", #"{"type":"message_stop"}"#),
    ]

    static func chunk(_ choice: String) -> String {
        #"data: {"id":"chatcmpl-msg_01A","object":"chat.completion.chunk","created":1700000000,"model":"claude-3-5-sonnet-20240620","choices":[\#(choice)]}"# + "\n\n"
    }

    static let expectedToolChunks = [
        chunk(#"{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"content":"Let me check"},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"content":" \"the\" weather.\n"},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_01T","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Par"}}]},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is\"}"}}]},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_02N","type":"function","function":{"name":"now","arguments":""}}]},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}"#),
        chunk(#"{"index":0,"delta":{},"finish_reason":"tool_calls"}"#),
    ]
    static let usageChunk = #"data: {"id":"chatcmpl-msg_01A","object":"chat.completion.chunk","created":1700000000,"model":"claude-3-5-sonnet-20240620","choices":[],"usage":{"prompt_tokens":572,"completion_tokens":89,"total_tokens":661,"prompt_tokens_details":{"cached_tokens":100},"cache_read_input_tokens":100}}"# + "\n\n"
    static let done = "data: [DONE]\n\n"

    func translator(_ output: AnthropicResponseTranslator.Output = .chat, usage: Bool = false, jsonMode: Bool = false) -> AnthropicResponseTranslator {
        AnthropicResponseTranslator(output: output, includeUsage: usage, jsonMode: jsonMode, created: 1_700_000_000)
    }

    /// Feeds `wire` cut at `cuts`; returns each emitted piece.
    func run(_ t: AnthropicResponseTranslator, _ wire: String, cuts: [Int]) throws -> [String] {
        let bytes = Array(wire.utf8)
        var pieces: [String] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            try t.stream(ByteBuffer(bytes: bytes[start..<cut])) { pieces.append(String(buffer: $0)) }
            start = cut
        }
        try t.streamEnd { pieces.append(String(buffer: $0)) }
        return pieces
    }

    func testEverySplitOfAToolStreamGivesTheSameWholeChunks() throws {
        let wire = Self.toolStream.joined()
        for cut in 0...wire.utf8.count {
            let includeUsage = cut % 2 == 0  // both variants, alternately (keeps the debug-build run short)
            let t = translator(usage: includeUsage)
            let pieces = try run(t, wire, cuts: [cut])
            let expected = Self.expectedToolChunks + (includeUsage ? [Self.usageChunk] : []) + [Self.done]
            XCTAssertEqual(pieces, expected, "cut \(cut) usage \(includeUsage)")
            XCTAssertEqual(t.usage, TokenUsage(promptTokens: 572, completionTokens: 89), "cut \(cut)")
        }
    }

    func testThreeWaySplitsWithCRLFFraming() throws {
        let wire = Self.toolStream.joined().replacingOccurrences(of: "\n", with: "\r\n")
        let n = wire.utf8.count
        for a in stride(from: 0, through: n, by: 61) {
            for b in stride(from: a, through: n, by: 89) {
                let pieces = try run(translator(), wire, cuts: [a, b])
                XCTAssertEqual(pieces, Self.expectedToolChunks + [Self.done], "cuts \(a) \(b)")
            }
        }
    }

    func testEachEventIsEmittedAsSoonAsItIsComplete() throws {
        let t = translator()
        var emitted: [String] = []
        try t.stream(ByteBuffer(string: Self.toolStream[0])) { emitted.append(String(buffer: $0)) }
        XCTAssertEqual(emitted, [Self.expectedToolChunks[0]], "message_start alone gives the first chunk")
        try t.stream(ByteBuffer(string: Self.toolStream[1] + Self.toolStream[2] + String(Self.toolStream[3].dropLast()))) { emitted.append(String(buffer: $0)) }
        XCTAssertEqual(emitted.count, 1, "a block start, a ping and an unfinished delta give nothing yet")
        try t.stream(ByteBuffer(string: "\n")) { emitted.append(String(buffer: $0)) }
        XCTAssertEqual(emitted.last, Self.expectedToolChunks[1])
    }

    func testAnErrorEventEndsTheStreamWithAnOpenAIError() throws {
        let wire = Self.toolStream[0] + Self.toolStream[1] + Self.toolStream[3]
            + Self.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            + Self.toolStream[4]
        for cut in 0...wire.utf8.count {
            do {
                _ = try run(translator(), wire, cuts: [cut])
                XCTFail("cut \(cut): the error must end the stream")
            } catch {
                guard case .status(let s)? = error as? UpstreamFailure else { return XCTFail("cut \(cut): \(error)") }
                XCTAssertEqual(s.status, 529)
                XCTAssertEqual(s.kind, .serverError)
                let body = try JSONValue.parse(String(buffer: try XCTUnwrap(s.clientBody)))
                XCTAssertEqual(body["error"]?["message"], .string("AnthropicException - Overloaded"))
                XCTAssertEqual(body["error"]?["type"], .string("internal_server_error"))
                XCTAssertEqual(body["error"]?["code"], .string("529"))
            }
        }
        // Before any event reached the client, the error is an ordinary (retryable) failure.
        let t = translator()
        XCTAssertThrowsError(try t.stream(ByteBuffer(string: Self.event("error", #"{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"#))) { _ in
            XCTFail("nothing is emitted")
        })
    }

    func testAStreamCutBeforeMessageStopIsAFailure() throws {
        let t = translator()
        XCTAssertThrowsError(try run(t, Self.toolStream.prefix(5).joined(), cuts: [])) { error in
            guard case .malformed? = error as? UpstreamFailure else { return XCTFail("\(error)") }
        }
    }

    func testJSONModeStreamsTheForcedToolInputAsContent() throws {
        let wire = [
            Self.toolStream[0],
            Self.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_J","name":"json_tool_call","input":{}}}"#),
            Self.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 1}"}}"#),
            Self.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            Self.event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":5}}"#),
            Self.event("message_stop", #"{"type":"message_stop"}"#),
        ].joined()
        let pieces = try run(translator(jsonMode: true), wire, cuts: [])
        XCTAssertEqual(pieces, [
            Self.expectedToolChunks[0],
            Self.chunk(#"{"index":0,"delta":{"content":"{\"a\": 1}"},"finish_reason":null}"#),
            Self.chunk(#"{"index":0,"delta":{},"finish_reason":"stop"}"#),
            Self.done,
        ])
    }

    func testTextCompletionStreams() throws {
        let wire = [Self.toolStream[0], Self.toolStream[1], Self.toolStream[3], Self.toolStream[5],
                    Self.event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":3}}"#),
                    Self.toolStream[14]].joined()
        let pieces = try run(translator(.text), wire, cuts: [])
        func text(_ text: String, _ finish: String) -> String {
            #"data: {"id":"chatcmpl-msg_01A","object":"text_completion","created":1700000000,"model":"claude-3-5-sonnet-20240620","choices":[{"index":0,"text":"\#(text)","logprobs":null,"finish_reason":\#(finish)}]}"# + "\n\n"
        }
        XCTAssertEqual(pieces, [text("", "null"), text("Let me check", "null"), text("", #""length""#), Self.done])
    }

    func testCompleteAnswersWithTextToolsAndThinking() throws {
        let body = #"{"id":"msg_01B","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[{"type":"thinking","thinking":"Paris first.","signature":"sig"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","days":2}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"#
        let t = translator()
        let out = String(buffer: try t.translate(ByteBuffer(string: body)))
        XCTAssertEqual(out, #"{"id":"chatcmpl-msg_01B","object":"chat.completion","created":1700000000,"model":"claude-3-7-sonnet-20250219","choices":[{"index":0,"message":{"role":"assistant","content":"Checking.","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":2}"}}],"reasoning_content":"Paris first.","thinking_blocks":[{"type":"thinking","thinking":"Paris first.","signature":"sig"}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":30,"total_tokens":50,"prompt_tokens_details":{"cached_tokens":0},"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}"#)
        XCTAssertEqual(t.usage, TokenUsage(promptTokens: 20, completionTokens: 30))

        let plain = translator()
        let simple = try JSONValue.parse(String(buffer: try plain.translate(ByteBuffer(string: #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-haiku-20240307","content":[{"type":"text","text":"Hi"}],"stop_reason":"max_tokens","usage":{"input_tokens":3,"output_tokens":1}}"#))))
        XCTAssertEqual(simple["choices"]?.arrayValue?.first?["finish_reason"], .string("length"))
        XCTAssertEqual(simple["choices"]?.arrayValue?.first?["message"]?["content"], .string("Hi"))
        XCTAssertNil(simple["choices"]?.arrayValue?.first?["message"]?["tool_calls"])
        XCTAssertEqual(simple["usage"]?["total_tokens"], .int(4))

        let json = translator(jsonMode: true)
        let answer = try JSONValue.parse(String(buffer: try json.translate(ByteBuffer(string: #"{"id":"msg_2","model":"m","content":[{"type":"tool_use","id":"t","name":"json_tool_call","input":{"values":{"a":1}}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}"#))))
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"], .string(#"{"a":1}"#))
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["finish_reason"], .string("stop"))

        let text = try JSONValue.parse(String(buffer: try translator(.text).translate(ByteBuffer(string: #"{"id":"msg_3","model":"m","content":[{"type":"text","text":"Hi"}],"stop_reason":"stop_sequence","usage":{"input_tokens":1,"output_tokens":1}}"#))))
        XCTAssertEqual(text["object"], .string("text_completion"))
        XCTAssertEqual(text["choices"]?.arrayValue?.first?["text"], .string("Hi"))
        XCTAssertEqual(text["choices"]?.arrayValue?.first?["finish_reason"], .string("stop"))

        XCTAssertThrowsError(try translator().translate(ByteBuffer(string: "<html>")))
    }

    func testErrorsAreClassifiedAndRewrittenInOpenAIShape() throws {
        func error(_ type: String, _ message: String) -> ByteBuffer {
            ByteBuffer(string: #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"},"request_id":"req_1"}"#)
        }
        func mapped(_ status: Int, _ type: String, _ message: String) throws -> (UpstreamErrorKind, JSONValue?) {
            let t = translator()
            let body = t.clientErrorBody(status: status, body: error(type, message)).map { String(buffer: $0) }
            return (t.classifyError(status: status, body: error(type, message)), try body.map { try JSONValue.parse($0)["error"] } ?? nil)
        }
        let (context, contextBody) = try mapped(400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum")
        XCTAssertEqual(context, .contextWindowExceeded)
        XCTAssertEqual(contextBody?.jsonText, #"{"message":"AnthropicException - prompt is too long: 208310 tokens > 200000 maximum","type":"context_window_exceeded","param":null,"code":"400"}"#)
        XCTAssertEqual(try mapped(400, "invalid_request_error", "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000").0, .contextWindowExceeded)
        XCTAssertEqual(try mapped(400, "invalid_request_error", "messages: roles must alternate").0, .badRequest)
        let (overloaded, overloadedBody) = try mapped(529, "overloaded_error", "Overloaded")
        XCTAssertEqual(overloaded, .serverError)
        XCTAssertEqual(overloadedBody?["type"], .string("internal_server_error"))
        XCTAssertEqual(overloadedBody?["code"], .string("529"))
        XCTAssertEqual(try mapped(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit").0, .rateLimit)
        XCTAssertEqual(try mapped(429, "rate_limit_error", "x").1?["type"], .string("rate_limit_error"))
        XCTAssertEqual(try mapped(401, "authentication_error", "invalid x-api-key").0, .authentication)
        XCTAssertEqual(try mapped(401, "authentication_error", "x").1?["type"], .string("authentication_error"))
        XCTAssertEqual(try mapped(403, "permission_error", "no access").0, .authentication)
        XCTAssertEqual(try mapped(403, "permission_error", "x").1?["type"], .string("permission_denied_error"))
        XCTAssertEqual(try mapped(404, "not_found_error", "model: claude-9").0, .notFound)
        XCTAssertEqual(try mapped(500, "api_error", "Internal server error").0, .serverError)
        XCTAssertEqual(try mapped(400, "invalid_request_error", "Output blocked by content filtering policy").0, .contentPolicy)

        let t = translator()
        XCTAssertNil(t.clientErrorBody(status: 502, body: ByteBuffer(string: "<html>bad gateway</html>")), "not Anthropic's shape: the gateway wraps it")
        XCTAssertEqual(t.classifyError(status: 502, body: ByteBuffer(string: "<html>bad gateway</html>")), .serverError)
    }
}
