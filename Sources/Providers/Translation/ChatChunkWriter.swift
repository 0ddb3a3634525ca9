import CloudAuth
import CallModel
import NIOCore
import OpenAIWire

/// Writes OpenAI's answer shapes for translators of non-OpenAI providers: whole
/// `chat.completion` bodies and `chat.completion.chunk` SSE events, with one id and
/// `created` per answer.
struct ChatChunkWriter {
    let id: String
    let created: Int
    let model: String

    init(model: String) {
        self.model = model
        id = "chatcmpl-" + Self.randomHex()
        created = Int(time(nil))
    }

    static func randomHex() -> String {
        var g = SystemRandomNumberGenerator()
        let a = g.next() as UInt64, b = g.next() as UInt64
        let bytes = withUnsafeBytes(of: a.bigEndian) { Array($0) } + withUnsafeBytes(of: b.bigEndian) { Array($0) }
        return String(AWSSigV4.hex(bytes).prefix(24))
    }

    /// `data: {"id",...,"choices":[{"index":0,"delta":<delta>,"finish_reason":<finish>}]}\n\n`
    func chunk(delta: JSONValue, finishReason: String? = nil) -> ByteBuffer {
        var out = head()
        out.writeStaticString(#","choices":[{"index":0,"delta":"#)
        out.writeJSON(delta)
        out.writeStaticString(#","finish_reason":"#)
        if let finishReason { out.writeJSONString(finishReason) } else { out.writeStaticString("null") }
        out.writeStaticString("}]}\n\n")
        return out
    }

    /// The usage-only chunk (`"choices":[]`) of `stream_options.include_usage`.
    func usageChunk(_ usage: TokenUsage) -> ByteBuffer {
        var out = head()
        out.writeStaticString(#","choices":[]"#)
        Self.writeUsage(&out, usage)
        out.writeStaticString("}\n\n")
        return out
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    private func head() -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(#"data: {"id":"#)
        out.writeJSONString(id)
        out.writeStaticString(#","object":"chat.completion.chunk","created":"#)
        out.writeString(String(created))
        out.writeStaticString(#","model":"#)
        out.writeJSONString(model)
        return out
    }

    /// A `chat.completion` body with one choice.
    func completion(content: String?, toolCalls: [JSONValue], finishReason: String, usage: TokenUsage?) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(#"{"id":"#)
        out.writeJSONString(id)
        out.writeStaticString(#","object":"chat.completion","created":"#)
        out.writeString(String(created))
        out.writeStaticString(#","model":"#)
        out.writeJSONString(model)
        out.writeStaticString(#","choices":[{"index":0,"message":{"role":"assistant","content":"#)
        if let content { out.writeJSONString(content) } else { out.writeStaticString("null") }
        if !toolCalls.isEmpty {
            out.writeStaticString(#","tool_calls":"#)
            out.writeJSON(.array(toolCalls))
        }
        out.writeStaticString(#"},"finish_reason":"#)
        out.writeJSONString(finishReason)
        out.writeStaticString("}]")
        if let usage { Self.writeUsage(&out, usage) }
        out.writeStaticString("}")
        return out
    }

    /// An OpenAI embeddings list.
    static func embeddings(_ vectors: [JSONValue], model: String, promptTokens: Int?) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeStaticString(#"{"object":"list","data":["#)
        for (i, v) in vectors.enumerated() {
            if i > 0 { out.writeStaticString(",") }
            out.writeString(#"{"object":"embedding","index":\#(i),"embedding":"#)
            out.writeJSON(v)
            out.writeStaticString("}")
        }
        out.writeStaticString(#"],"model":"#)
        out.writeJSONString(model)
        let tokens = promptTokens ?? 0
        out.writeString(#","usage":{"prompt_tokens":\#(tokens),"total_tokens":\#(tokens)}}"#)
        return out
    }

    static func writeUsage(_ out: inout ByteBuffer, _ usage: TokenUsage) {
        out.writeString(#","usage":{"prompt_tokens":\#(usage.promptTokens),"completion_tokens":\#(usage.completionTokens),"total_tokens":\#(usage.totalTokens)}"#)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
