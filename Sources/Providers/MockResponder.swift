import NIOCore
import OpenAIWire

/// Answers a call from `mock_response` (deployment param or request body) without any network,
/// in OpenAI's exact response shapes. A string naming a LiteLLM exception
/// (`litellm.RateLimitError`, ...) answers that error instead, for testing retries and fallbacks.
public enum MockResponder {
    public enum Answer {
        case json(ByteBuffer)
        /// Complete SSE events (`data: {...}\n\n` ... `data: [DONE]\n\n`).
        case stream([ByteBuffer])
        case error(OpenAIError)
    }

    /// Errors a mock can simulate, by LiteLLM exception name.
    static let simulatedErrors: [String: (Int, String)] = [
        "RateLimitError": (429, "rate_limit_error"),
        "InternalServerError": (500, "internal_server_error"),
        "ServiceUnavailableError": (503, "service_unavailable_error"),
        "APIConnectionError": (500, "api_connection_error"),
        "Timeout": (408, "timeout"),
        "BadRequestError": (400, "invalid_request_error"),
        "ContextWindowExceededError": (400, "context_window_exceeded"),
        "ContentPolicyViolationError": (400, "content_policy_violation"),
        "AuthenticationError": (401, "authentication_error"),
        "NotFoundError": (404, "not_found_error"),
    ]

    /// - Parameters:
    ///   - mock: the `mock_response` value.
    ///   - model: the model name to report.
    ///   - callID: used in the response id.
    ///   - promptChars: size of the prompt, for the usage estimate.
    ///   - created: Unix seconds.
    public static func answer(
        _ mock: JSONValue, endpoint: Endpoint, model: String, stream: Bool, includeUsage: Bool,
        callID: String, promptChars: Int, created: Int, inputs: Int = 1
    ) -> Answer {
        if case .string(let text) = mock, text.hasPrefix("litellm."),
           let (status, type) = simulatedErrors[String(text.dropFirst("litellm.".count))] {
            return .error(OpenAIError(status: status, message: "Mock \(text) raised by mock_response", type: type, retryAfter: status == 429 ? 1 : nil))
        }
        let promptTokens = max(1, promptChars / 4)
        switch endpoint {
        case .embeddings:
            return .json(embedding(mock, model: model, promptTokens: promptTokens, inputs: inputs))
        case .completions, .chatCompletions:
            let content: String
            switch mock {
            case .string(let s): content = s
            case .null: content = ""
            default: content = mock.jsonText
            }
            let completionTokens = max(1, content.utf8.count / 4)
            let chat = endpoint == .chatCompletions
            if stream {
                return .stream(chunks(content, chat: chat, model: model, callID: callID, created: created,
                                      usage: includeUsage ? (promptTokens, completionTokens) : nil))
            }
            var out = ByteBuffer()
            out.writeStaticString(#"{"id":"#)
            out.writeJSONString((chat ? "chatcmpl-" : "cmpl-") + callID)
            out.writeStaticString(chat ? #","object":"chat.completion","created":"# : #","object":"text_completion","created":"#)
            out.writeString(String(created))
            out.writeStaticString(#","model":"#)
            out.writeJSONString(model)
            if chat {
                out.writeStaticString(#","choices":[{"index":0,"message":{"role":"assistant","content":"#)
                out.writeJSONString(content)
                out.writeStaticString(#"},"finish_reason":"stop"}]"#)
            } else {
                out.writeStaticString(#","choices":[{"index":0,"text":"#)
                out.writeJSONString(content)
                out.writeStaticString(#","logprobs":null,"finish_reason":"stop"}]"#)
            }
            writeUsage(&out, promptTokens, completionTokens)
            out.writeStaticString("}")
            return .json(out)
        }
    }

    static func writeUsage(_ out: inout ByteBuffer, _ prompt: Int, _ completion: Int) {
        out.writeString(#","usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),"total_tokens":\#(prompt + completion)}"#)
    }

    static func chunks(_ content: String, chat: Bool, model: String, callID: String, created: Int, usage: (Int, Int)?) -> [ByteBuffer] {
        // Split after each space so a client sees several deltas.
        var pieces: [String] = []
        var current = ""
        for ch in content {
            current.append(ch)
            if ch == " " { pieces.append(current); current = "" }
        }
        if !current.isEmpty || pieces.isEmpty { pieces.append(current) }

        func event(_ body: (inout ByteBuffer) -> Void, choices: Bool = true) -> ByteBuffer {
            var out = ByteBuffer()
            out.writeStaticString(#"data: {"id":"#)
            out.writeJSONString((chat ? "chatcmpl-" : "cmpl-") + callID)
            out.writeStaticString(chat ? #","object":"chat.completion.chunk","created":"# : #","object":"text_completion","created":"#)
            out.writeString(String(created))
            out.writeStaticString(#","model":"#)
            out.writeJSONString(model)
            body(&out)
            out.writeStaticString("}\n\n")
            return out
        }
        var events: [ByteBuffer] = []
        for (n, piece) in pieces.enumerated() {
            events.append(event { out in
                if chat {
                    out.writeStaticString(#","choices":[{"index":0,"delta":{"#)
                    if n == 0 { out.writeStaticString(#""role":"assistant","#) }
                    out.writeStaticString(#""content":"#)
                    out.writeJSONString(piece)
                    out.writeStaticString(#"},"finish_reason":null}]"#)
                } else {
                    out.writeStaticString(#","choices":[{"index":0,"text":"#)
                    out.writeJSONString(piece)
                    out.writeStaticString(#","logprobs":null,"finish_reason":null}]"#)
                }
            })
        }
        events.append(event { out in
            out.writeStaticString(chat
                ? #","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]"#
                : #","choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"stop"}]"#)
        })
        if let (prompt, completion) = usage {
            events.append(event { out in
                out.writeStaticString(#","choices":[]"#)
                writeUsage(&out, prompt, completion)
            })
        }
        var done = ByteBuffer()
        done.writeStaticString("data: [DONE]\n\n")
        events.append(done)
        return events
    }

    static func embedding(_ mock: JSONValue, model: String, promptTokens: Int, inputs: Int) -> ByteBuffer {
        let vector: [JSONValue]
        if case .array(let values) = mock, values.allSatisfy({ $0.doubleValue != nil }), !values.isEmpty {
            vector = values
        } else {
            vector = [0.0123, -0.0456, 0.0789, -0.0101, 0.0202, -0.0303, 0.0404, -0.0505].map { .double($0) }
        }
        var out = ByteBuffer()
        out.writeStaticString(#"{"object":"list","data":["#)
        for i in 0..<max(1, inputs) {
            if i > 0 { out.writeStaticString(",") }
            out.writeString(#"{"object":"embedding","index":\#(i),"embedding":"#)
            out.writeJSON(.array(vector))
            out.writeStaticString("}")
        }
        out.writeStaticString(#"],"model":"#)
        out.writeJSONString(model)
        out.writeString(#","usage":{"prompt_tokens":\#(promptTokens),"total_tokens":\#(promptTokens)}}"#)
        return out
    }
}
