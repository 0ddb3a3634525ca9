import CallModel
import NIOCore
import OpenAIWire

/// Writes OpenAI's answer shapes (`chat.completion`, `chat.completion.chunk` events,
/// `text_completion`, the usage chunk, `[DONE]`) for translators of providers that do not speak
/// OpenAI's API. One per answer: the id and `created` stay the same across a stream's chunks.
///
/// ```swift
/// let writer = OpenAIAnswerWriter(model: "llama3", object: .chat)
/// var out = ByteBuffer()
/// writer.writeChunk(delta: .object([JSONMember("content", .string("Hi"))]), finishReason: nil, into: &out)
/// ```
public struct OpenAIAnswerWriter: Sendable {
    /// Which OpenAI operation the answer is for.
    public enum Kind: Sendable {
        /// `chat.completion` / `chat.completion.chunk`, choices carry `message` / `delta`.
        case chat
        /// `text_completion`, choices carry `text`.
        case text
    }

    public let kind: Kind
    public var model: String
    public let id: String
    public let created: Int

    public init(model: String, kind: Kind, created: Int = OpenAIAnswerWriter.now()) {
        self.kind = kind
        self.model = model
        self.id = (kind == .chat ? "chatcmpl-" : "cmpl-") + Self.randomID()
        self.created = created
    }

    /// Unix seconds.
    public static func now() -> Int { Int(time(nil)) }

    /// 24 random hex digits.
    static func randomID() -> String {
        let a = UInt64.random(in: .min ... .max), b = UInt32.random(in: .min ... .max)
        let hex = String(a, radix: 16) + String(b, radix: 16)
        return String(repeating: "0", count: max(0, 24 - hex.count)) + hex
    }

    private func writeHead(object: StaticString, into out: inout ByteBuffer) {
        out.writeStaticString(#"{"id":"#)
        out.writeJSONString(id)
        out.writeStaticString(#","object":""#)
        out.writeStaticString(object)
        out.writeStaticString(#"","created":"#)
        out.writeString(String(created))
        out.writeStaticString(#","model":"#)
        out.writeJSONString(model)
    }

    private static func writeFinish(_ finishReason: String?, into out: inout ByteBuffer) {
        out.writeStaticString(#","finish_reason":"#)
        if let finishReason { out.writeJSONString(finishReason) } else { out.writeStaticString("null") }
    }

    /// One `data: {chunk}\n\n` event with one choice. For `.chat`, `delta` is the delta object;
    /// for `.text`, `text` is the piece of text.
    public func writeChunk(delta: JSONValue = .object([]), text: String = "", finishReason: String?, into out: inout ByteBuffer) {
        out.writeStaticString("data: ")
        switch kind {
        case .chat:
            writeHead(object: "chat.completion.chunk", into: &out)
            out.writeStaticString(#","choices":[{"index":0,"delta":"#)
            out.writeJSON(delta)
        case .text:
            writeHead(object: "text_completion", into: &out)
            out.writeStaticString(#","choices":[{"index":0,"text":"#)
            out.writeJSONString(text)
            out.writeStaticString(#","logprobs":null"#)
        }
        Self.writeFinish(finishReason, into: &out)
        out.writeStaticString("}]}\n\n")
    }

    /// The usage-only chunk (`"choices": []`) that `stream_options.include_usage` asks for.
    public func writeUsageChunk(_ usage: TokenUsage, into out: inout ByteBuffer) {
        out.writeStaticString("data: ")
        writeHead(object: kind == .chat ? "chat.completion.chunk" : "text_completion", into: &out)
        out.writeStaticString(#","choices":[],"usage":"#)
        Self.writeUsage(usage, into: &out)
        out.writeStaticString("}\n\n")
    }

    /// `data: [DONE]\n\n`
    public static func writeDone(into out: inout ByteBuffer) {
        out.writeStaticString("data: [DONE]\n\n")
    }

    /// A complete answer: `chat.completion` with `message`, or `text_completion` with `text`.
    public func writeAnswer(message: JSONValue = .null, text: String = "", finishReason: String?, usage: TokenUsage?, into out: inout ByteBuffer) {
        switch kind {
        case .chat:
            writeHead(object: "chat.completion", into: &out)
            out.writeStaticString(#","choices":[{"index":0,"message":"#)
            out.writeJSON(message)
        case .text:
            writeHead(object: "text_completion", into: &out)
            out.writeStaticString(#","choices":[{"index":0,"text":"#)
            out.writeJSONString(text)
            out.writeStaticString(#","logprobs":null"#)
        }
        Self.writeFinish(finishReason, into: &out)
        out.writeStaticString("}]")
        if let usage {
            out.writeStaticString(#","usage":"#)
            Self.writeUsage(usage, into: &out)
        }
        out.writeStaticString("}")
    }

    /// `{"prompt_tokens":…,"completion_tokens":…,"total_tokens":…}`
    public static func writeUsage(_ usage: TokenUsage, into out: inout ByteBuffer) {
        out.writeStaticString(#"{"prompt_tokens":"#)
        out.writeString(String(usage.promptTokens))
        out.writeStaticString(#","completion_tokens":"#)
        out.writeString(String(usage.completionTokens))
        out.writeStaticString(#","total_tokens":"#)
        out.writeString(String(usage.totalTokens))
        out.writeStaticString("}")
    }

    /// An embeddings list: `{"object":"list","data":[{"object":"embedding","index":i,"embedding":…}],"model":…,"usage":…}`,
    /// each vector written as given (`vectors` are JSON array texts, copied as bytes).
    public static func writeEmbeddings(_ vectors: [ByteBuffer], model: String, promptTokens: Int, into out: inout ByteBuffer) {
        out.writeStaticString(#"{"object":"list","data":["#)
        for (i, var vector) in vectors.enumerated() {
            if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
            out.writeStaticString(#"{"object":"embedding","index":"#)
            out.writeString(String(i))
            out.writeStaticString(#","embedding":"#)
            out.writeBuffer(&vector)
            out.writeStaticString("}")
        }
        out.writeStaticString(#"],"model":"#)
        out.writeJSONString(model)
        out.writeStaticString(#","usage":{"prompt_tokens":"#)
        out.writeString(String(promptTokens))
        out.writeStaticString(#","total_tokens":"#)
        out.writeString(String(promptTokens))
        out.writeStaticString("}}")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
