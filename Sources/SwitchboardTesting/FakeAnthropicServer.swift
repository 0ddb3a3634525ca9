import NIOCore
import OpenAIWire

/// Anthropic's Messages API, spoken by a ``FakeOpenAIServer`` (real sockets, real HTTP/1.1):
/// `POST /v1/messages` only, `x-api-key` and `anthropic-version` checked the way Anthropic checks
/// them, answers as `message` JSON or as Anthropic's SSE stream (`event: message_start`, ...),
/// errors as `{"type": "error", "error": {...}}`.
///
/// ```swift
/// let upstream = try await FakeOpenAIServer(responder: FakeAnthropicServer.responder(apiKey: "sk-ant"))
/// // litellm_params: {model: anthropic/claude-3-5-sonnet-20240620, api_base: upstream.anthropicBase, api_key: sk-ant}
/// ```
public enum FakeAnthropicServer {
    /// Answers every request Anthropic's way; `answer` decides for requests that pass the checks
    /// (default: ``standardAnswer(_:)``).
    public static func responder(
        apiKey: String, delay: TimeAmount = .zero,
        answer: @escaping @Sendable (RecordedRequest) -> FakeResponse = { FakeAnthropicServer.standardAnswer($0) }
    ) -> @Sendable (RecordedRequest) -> FakeResponse {
        { request in
            guard request.method == "POST", request.uri.split(separator: "?").first == "/v1/messages" else {
                return error(404, "not_found_error", "Not found: \(request.method) \(request.uri)")
            }
            guard let key = request.header("x-api-key"), key == apiKey else {
                return error(401, "authentication_error", "invalid x-api-key")
            }
            guard request.header("anthropic-version") != nil else {
                return error(400, "invalid_request_error", "anthropic-version: header is required")
            }
            guard let json = request.json, json["max_tokens"]?.intValue != nil else {
                return error(400, "invalid_request_error", "max_tokens: Field required")
            }
            let response = answer(request)
            if delay != .zero, case .sse(let events, _) = response { return .sse(events: events, delay: delay) }
            return response
        }
    }

    /// A `message` answer echoing the model, or the stream of the same words.
    public static func standardAnswer(_ request: RecordedRequest) -> FakeResponse {
        let model = request.json?["model"]?.stringValue ?? "unknown"
        if request.json?["stream"]?.boolValue == true {
            return .sse(events: streamEvents(model: model, words: ["Hello", " from", " fake", " Claude"]))
        }
        return .json(status: 200, body: message(model: model, text: "Hello from fake Claude"))
    }

    /// A `message` body with one text block.
    public static func message(model: String, text: String, stopReason: String = "end_turn", inputTokens: Int = 12, outputTokens: Int = 6) -> String {
        var out = ByteBuffer()
        out.writeJSON(.object([
            JSONMember("id", .string("msg_01FakeMessage")), JSONMember("type", .string("message")), JSONMember("role", .string("assistant")),
            JSONMember("model", .string(model)),
            JSONMember("content", .array([.object([JSONMember("type", .string("text")), JSONMember("text", .string(text))])])),
            JSONMember("stop_reason", .string(stopReason)), JSONMember("stop_sequence", .null),
            JSONMember("usage", .object([JSONMember("input_tokens", .int(inputTokens)), JSONMember("output_tokens", .int(outputTokens))])),
        ]))
        return String(buffer: out)
    }

    /// One SSE event as Anthropic frames it: `event: TYPE\ndata: JSON\n\n`.
    public static func event(_ type: String, _ json: String) -> String {
        "event: \(type)\ndata: \(json)\n\n"
    }

    /// A whole text stream: `message_start`, a `ping`, one text block with a delta per word,
    /// `message_delta` with the stop reason and output tokens, `message_stop`.
    public static func streamEvents(model: String, words: [String], inputTokens: Int = 12, outputTokens: Int = 6) -> [String] {
        var events = [
            event("message_start", #"{"type":"message_start","message":{"id":"msg_01FakeStream","type":"message","role":"assistant","model":"\#(model)","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(inputTokens),"output_tokens":1}}}"#),
            event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            event("ping", #"{"type": "ping"}"#),
        ]
        for w in words {
            var text = ByteBuffer()
            text.writeJSONString(w)
            events.append(event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\#(String(buffer: text))}}"#))
        }
        events.append(event("content_block_stop", #"{"type":"content_block_stop","index":0}"#))
        events.append(event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":\#(outputTokens)}}"#))
        events.append(event("message_stop", #"{"type":"message_stop"}"#))
        return events
    }

    /// An Anthropic error answer.
    public static func error(_ status: Int, _ type: String, _ message: String) -> FakeResponse {
        var out = ByteBuffer()
        out.writeJSON(.object([
            JSONMember("type", .string("error")),
            JSONMember("error", .object([JSONMember("type", .string(type)), JSONMember("message", .string(message))])),
        ]))
        return .json(status: status, body: String(buffer: out), headers: [("request-id", "req_fake")])
    }
}

extension FakeOpenAIServer {
    /// `http://127.0.0.1:PORT`: an Anthropic `api_base` (the provider adds `/v1/messages`).
    public var anthropicBase: String { "http://127.0.0.1:\(port)" }
}
