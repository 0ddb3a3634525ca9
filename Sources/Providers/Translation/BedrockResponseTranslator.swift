import CallModel
import NIOCore
import OpenAIWire

/// Bedrock answers → OpenAI answers: Converse JSON → `chat.completion`, ConverseStream's
/// binary event stream → `chat.completion.chunk` events (one per Bedrock event, as it
/// arrives), Titan and Cohere InvokeModel embeddings → an embeddings list, and Bedrock's
/// `{"message"}` errors → OpenAI errors.
public final class BedrockResponseTranslator: ResponseTranslator {
    /// Which Bedrock operation answered.
    public enum Operation: Sendable, Equatable {
        case converse
        /// `amazon.titan-embed-*`: `{"embedding": [...], "inputTextTokenCount": n}`.
        case titanEmbedding
        /// `cohere.embed-*`: `{"embeddings": [[...]] | {"float": [[...]]}}`.
        case cohereEmbedding
    }

    let operation: Operation
    let streaming: Bool
    /// Emit the usage-only chunk (the client asked with `stream_options.include_usage`).
    let includeUsage: Bool
    let writer: ChatChunkWriter
    private var decoder = AWSEventStreamDecoder()
    /// Converse content block index → OpenAI tool call index.
    private var toolIndexes: [Int: Int] = [:]
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    public init(operation: Operation, model: String, streaming: Bool, includeUsage: Bool) {
        self.operation = operation
        self.streaming = streaming
        self.includeUsage = includeUsage
        writer = ChatChunkWriter(model: model)
    }

    public func handling(for head: UpstreamHead) -> BodyHandling { streaming ? .stream : .buffer }

    // MARK: Stream

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        try decoder.feed(bytes) { (message: AWSEventStreamMessage) throws(UpstreamFailure) in
            if let out = try self.translate(event: message) { emit(out) }
        }
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        if decoder.hasPartialMessage { throw .malformed("the Bedrock event stream ended inside a message") }
        emit(ChatChunkWriter.done)
    }

    /// One ConverseStream event → at most one OpenAI chunk.
    func translate(event message: AWSEventStreamMessage) throws(UpstreamFailure) -> ByteBuffer? {
        switch message.messageType {
        case "exception", "error":
            throw AWSErrorMapper.streamFailure(message, provider: "Bedrock")
        default:
            break
        }
        guard let type = message.eventType else { return nil }
        let payload = message.payload
        guard let event = try? payload.withUnsafeReadableBytes({ try JSONValue.parse($0) }) else {
            throw .malformed("Bedrock \(type) event whose payload is not JSON")
        }
        switch type {
        case "messageStart":
            return writer.chunk(delta: .object([JSONMember("role", .string("assistant")), JSONMember("content", .string(""))]))
        case "contentBlockStart":
            guard let tool = event["start"]?["toolUse"] else { return nil }
            let index = toolIndexes.count
            toolIndexes[event["contentBlockIndex"]?.intValue ?? index] = index
            let name = tool["name"]?.stringValue ?? ""
            contentBytes += name.utf8.count
            return writer.chunk(delta: .object([JSONMember("tool_calls", .array([.object([
                JSONMember("index", .int(index)),
                JSONMember("id", .string(tool["toolUseId"]?.stringValue ?? "")),
                JSONMember("type", .string("function")),
                JSONMember("function", .object([JSONMember("name", .string(name)), JSONMember("arguments", .string(""))])),
            ])]))]))
        case "contentBlockDelta":
            let delta = event["delta"]
            if let text = delta?["text"]?.stringValue {
                contentBytes += text.utf8.count
                return writer.chunk(delta: .object([JSONMember("content", .string(text))]))
            }
            if let input = delta?["toolUse"]?["input"]?.stringValue {
                contentBytes += input.utf8.count
                let block = event["contentBlockIndex"]?.intValue ?? 0
                let index = toolIndexes[block] ?? max(0, toolIndexes.count - 1)
                return writer.chunk(delta: .object([JSONMember("tool_calls", .array([.object([
                    JSONMember("index", .int(index)),
                    JSONMember("function", .object([JSONMember("arguments", .string(input))])),
                ])]))]))
            }
            if let reasoning = delta?["reasoningContent"]?["text"]?.stringValue {
                contentBytes += reasoning.utf8.count
                return writer.chunk(delta: .object([JSONMember("reasoning_content", .string(reasoning))]))
            }
            return nil
        case "messageStop":
            return writer.chunk(delta: .object([]), finishReason: Self.finishReason(event["stopReason"]?.stringValue))
        case "metadata":
            guard let found = Self.usage(event["usage"]) else { return nil }
            usage = found
            return includeUsage ? writer.usageChunk(found) : nil
        default:
            return nil
        }
    }

    // MARK: Complete answers

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        guard let answer = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }) else {
            throw .malformed("the Bedrock answer is not JSON")
        }
        switch operation {
        case .converse:
            guard let blocks = answer["output"]?["message"]?["content"]?.arrayValue else {
                throw .malformed("the Bedrock Converse answer has no output.message.content")
            }
            var text: String?
            var toolCalls: [JSONValue] = []
            for block in blocks {
                if let t = block["text"]?.stringValue {
                    text = (text ?? "") + t
                } else if let tool = block["toolUse"] {
                    toolCalls.append(.object([
                        JSONMember("id", .string(tool["toolUseId"]?.stringValue ?? "")),
                        JSONMember("type", .string("function")),
                        JSONMember("function", .object([
                            JSONMember("name", .string(tool["name"]?.stringValue ?? "")),
                            JSONMember("arguments", .string((tool["input"] ?? .object([])).jsonText)),
                        ])),
                    ]))
                }
            }
            contentBytes = (text?.utf8.count ?? 0) + toolCalls.reduce(0) { $0 + $1.jsonText.utf8.count }
            usage = Self.usage(answer["usage"])
            return writer.completion(
                content: text, toolCalls: toolCalls, finishReason: Self.finishReason(answer["stopReason"]?.stringValue), usage: usage)
        case .titanEmbedding:
            guard let vector = answer["embedding"], vector.arrayValue != nil else {
                throw .malformed("the Titan embeddings answer has no embedding")
            }
            let tokens = answer["inputTextTokenCount"]?.intValue
            if let tokens { usage = TokenUsage(promptTokens: tokens, completionTokens: 0) }
            return ChatChunkWriter.embeddings([vector], model: writer.model, promptTokens: tokens)
        case .cohereEmbedding:
            let vectors = answer["embeddings"]?.arrayValue ?? answer["embeddings"]?["float"]?.arrayValue
            guard let vectors else { throw .malformed("the Cohere embeddings answer has no embeddings") }
            return ChatChunkWriter.embeddings(vectors, model: writer.model, promptTokens: nil)
        }
    }

    /// Converse `stopReason` → OpenAI `finish_reason`.
    public static func finishReason(_ stopReason: String?) -> String {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": return "length"
        case "tool_use": return "tool_calls"
        case "content_filtered", "guardrail_intervened": return "content_filter"
        default: return "stop"  // end_turn, stop_sequence
        }
    }

    static func usage(_ value: JSONValue?) -> TokenUsage? {
        guard let input = value?["inputTokens"]?.intValue else { return nil }
        return TokenUsage(promptTokens: input, completionTokens: value?["outputTokens"]?.intValue ?? 0)
    }

    // MARK: Errors

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        AWSErrorMapper.classify(status: status, body: body)
    }

    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        AWSErrorMapper.clientErrorBody(status: status, message: AWSErrorMapper.message(body), provider: "Bedrock")
    }
}
