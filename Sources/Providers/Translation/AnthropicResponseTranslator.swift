import CallModel
import NIOCore
import OpenAIWire

/// Turns Anthropic Messages API answers into OpenAI's: a `message` body into a
/// `chat.completion` (or `text_completion`), and a Messages stream (`message_start`,
/// `content_block_start` / `_delta` / `_stop`, `message_delta`, `message_stop`, `ping`,
/// `error`) into `chat.completion.chunk` events ending with `data: [DONE]`.
///
/// Every Anthropic event is translated as soon as it is complete: `message_start` gives the
/// first chunk (`role: assistant`), text deltas become `content`, a `tool_use` block becomes a
/// `tool_calls` delta (index, id, name) followed by its `arguments` fragments, `message_delta`
/// gives the chunk with `finish_reason`, and `message_stop` the usage chunk (when the client
/// asked for it) and `[DONE]`. An `event: error` ends the stream with that error.
public final class AnthropicResponseTranslator: ResponseTranslator {
    /// What the client asked for.
    public enum Output: Sendable {
        /// `/chat/completions`: `chat.completion` and `chat.completion.chunk`.
        case chat
        /// `/completions`: `text_completion`.
        case text
    }

    /// What an Anthropic content block of the stream is, by its index.
    enum Block {
        case text
        /// A tool call: its OpenAI `tool_calls` index, and whether arguments were sent.
        case tool(index: Int, hasArguments: Bool)
        /// JSON mode's forced tool: its input is relayed as text content.
        case jsonAnswer
        case thinking
        case other
    }

    let output: Output
    let includeUsage: Bool
    let jsonMode: Bool
    let created: Int

    private var splitter = SSEEventSplitter()
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    // Stream state.
    private var id = "chatcmpl-"
    private var model = ""
    private var promptTokens = 0
    private var completionTokens = 0
    private var cacheReadTokens: Int?
    private var cacheCreationTokens: Int?
    private var blocks: [Int: Block] = [:]
    private var toolCalls = 0
    private var stopped = false
    private var failure: UpstreamFailure?
    /// The bytes every text chunk starts with (`data: {"id":...,"choices":[{"index":0,...`),
    /// made once the id and model are known: text deltas, the bulk of a stream, are written
    /// without building JSON values.
    private var textChunkPrefix: ByteBuffer?

    /// - Parameters:
    ///   - includeUsage: the client asked for the usage chunk (`stream_options.include_usage`).
    ///   - jsonMode: the request forced JSON mode's `json_tool_call` (`response_format`).
    ///   - created: Unix seconds, for the answer's `created`.
    public init(output: Output, includeUsage: Bool, jsonMode: Bool, created: Int) {
        self.output = output
        self.includeUsage = includeUsage
        self.jsonMode = jsonMode
        self.created = created
    }

    public func handling(for head: UpstreamHead) -> BodyHandling {
        head.contentKind == .eventStream ? .stream : .buffer
    }

    // MARK: Stream

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        if let failure { throw failure }
        splitter.split(bytes, keep: { event in
            if failure == nil, !stopped { handle(event, emit: emit) }
            return false
        }, emit: { _ in })
        if let failure { throw failure }
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        if let rest = splitter.finish(), failure == nil, !stopped { handle(rest, emit: emit) }
        if let failure { throw failure }
        if !stopped { throw .malformed("the Anthropic stream ended before message_stop") }
    }

    /// One complete SSE event.
    private func handle(_ event: ByteBuffer, emit: (ByteBuffer) -> Void) {
        guard let payload = Self.data(of: event) else { return }
        guard let value = try? payload.withUnsafeReadableBytes({ try JSONValue.parse($0) }) else {
            failure = .malformed("an Anthropic stream event is not JSON")
            return
        }
        switch value["type"]?.stringValue {
        case "message_start":
            let message = value["message"]
            if let messageID = message?["id"]?.stringValue { id = "chatcmpl-" + messageID }
            model = message?["model"]?.stringValue ?? model
            textChunkPrefix = nil
            readUsage(message?["usage"])
            emit(chunk(delta: [JSONMember("role", .string("assistant")), JSONMember("content", .string(""))], text: ""))
        case "content_block_start":
            let index = value["index"]?.intValue ?? 0
            let block = value["content_block"]
            switch block?["type"]?.stringValue {
            case "text":
                blocks[index] = .text
                if let text = block?["text"]?.stringValue, !text.isEmpty { emitText(text, emit) }
            case "tool_use":
                let name = block?["name"]?.stringValue ?? ""
                if jsonMode && name == AnthropicMessagesRequest.jsonToolName {
                    blocks[index] = .jsonAnswer
                    return
                }
                let call = toolCalls
                toolCalls += 1
                blocks[index] = .tool(index: call, hasArguments: false)
                guard output == .chat else { return }
                emit(chunk(delta: [JSONMember("tool_calls", .array([.object([
                    JSONMember("index", .int(call)), JSONMember("id", .string(block?["id"]?.stringValue ?? "")),
                    JSONMember("type", .string("function")),
                    JSONMember("function", .object([JSONMember("name", .string(name)), JSONMember("arguments", .string(""))])),
                ])]))]))
            case "thinking":
                blocks[index] = .thinking
            default:
                blocks[index] = .other
            }
        case "content_block_delta":
            let index = value["index"]?.intValue ?? 0
            let delta = value["delta"]
            switch (blocks[index], delta?["type"]?.stringValue ?? "") {
            case (.text?, "text_delta"), (nil, "text_delta"):
                if let text = delta?["text"]?.stringValue, !text.isEmpty { emitText(text, emit) }
            case (.jsonAnswer?, "input_json_delta"):
                if let json = delta?["partial_json"]?.stringValue, !json.isEmpty { emitText(json, emit) }
            case (.tool(let call, _)?, "input_json_delta"):
                guard let json = delta?["partial_json"]?.stringValue, !json.isEmpty else { return }
                blocks[index] = .tool(index: call, hasArguments: true)
                contentBytes += json.utf8.count
                guard output == .chat else { return }
                emit(toolArguments(call, json))
            case (.thinking?, "thinking_delta"):
                guard let text = delta?["thinking"]?.stringValue, !text.isEmpty, output == .chat else { return }
                contentBytes += text.utf8.count
                emit(chunk(delta: [JSONMember("reasoning_content", .string(text))]))
            default:
                break  // signatures, citations, server tools: nothing OpenAI's chunks carry
            }
        case "content_block_stop":
            // A tool called without arguments still gets "{}", which clients parse.
            let index = value["index"]?.intValue ?? 0
            if case .tool(let call, false)? = blocks[index], output == .chat { emit(toolArguments(call, "{}")) }
        case "message_delta":
            readUsage(value["usage"])
            let reason = Self.finishReason(value["delta"]?["stop_reason"]?.stringValue, jsonAnswer: jsonMode && toolCalls == 0)
            emit(chunk(delta: [], text: "", finishReason: reason))
        case "message_stop":
            stopped = true
            if includeUsage { emit(usageChunk()) }
            var done = ByteBuffer()
            done.writeStaticString("data: [DONE]\n\n")
            emit(done)
        case "error":
            failure = AnthropicErrors.streamFailure(payload)
        default:
            break  // ping, and events added later
        }
    }

    private func emitText(_ text: String, _ emit: (ByteBuffer) -> Void) {
        contentBytes += text.utf8.count
        if textChunkPrefix == nil {
            var prefix = ByteBuffer()
            prefix.writeStaticString("data: ")
            prefix.writeJSON(.object([
                JSONMember("id", .string(id)), JSONMember("object", .string(output == .chat ? "chat.completion.chunk" : "text_completion")),
                JSONMember("created", .int(created)), JSONMember("model", .string(model)),
            ]))
            prefix.moveWriterIndex(to: prefix.writerIndex - 1)  // reopen the object
            prefix.writeStaticString(output == .chat ? #","choices":[{"index":0,"delta":{"content":"# : #","choices":[{"index":0,"text":"#)
            textChunkPrefix = prefix
        }
        var out = ByteBuffer()
        out.reserveCapacity(textChunkPrefix!.readableBytes + text.utf8.count + 48)
        out.writeImmutableBuffer(textChunkPrefix!)
        out.writeJSONString(text)
        out.writeStaticString(output == .chat ? "},\"finish_reason\":null}]}\n\n" : ",\"logprobs\":null,\"finish_reason\":null}]}\n\n")
        emit(out)
    }

    private func toolArguments(_ call: Int, _ json: String) -> ByteBuffer {
        chunk(delta: [JSONMember("tool_calls", .array([.object([
            JSONMember("index", .int(call)), JSONMember("function", .object([JSONMember("arguments", .string(json))])),
        ])]))])
    }

    /// Anthropic reports `input_tokens` in `message_start` and the running `output_tokens` in
    /// `message_delta` (which may repeat the input counts).
    private func readUsage(_ value: JSONValue?) {
        guard let value else { return }
        if let input = value["input_tokens"]?.intValue { promptTokens = input }
        if let output = value["output_tokens"]?.intValue { completionTokens = output }
        if let read = value["cache_read_input_tokens"]?.intValue { cacheReadTokens = read }
        if let creation = value["cache_creation_input_tokens"]?.intValue { cacheCreationTokens = creation }
        usage = TokenUsage(promptTokens: promptTokens + (cacheReadTokens ?? 0), completionTokens: completionTokens)
    }

    /// A `chat.completion.chunk` event with one choice (`text` is the `text_completion` form).
    private func chunk(delta: [JSONMember], text: String? = nil, finishReason: String? = nil) -> ByteBuffer {
        let choice: JSONValue
        switch output {
        case .chat:
            choice = .object([
                JSONMember("index", .int(0)), JSONMember("delta", .object(delta)),
                JSONMember("finish_reason", finishReason.map { .string($0) } ?? .null),
            ])
        case .text:
            choice = .object([
                JSONMember("index", .int(0)), JSONMember("text", .string(text ?? "")), JSONMember("logprobs", .null),
                JSONMember("finish_reason", finishReason.map { .string($0) } ?? .null),
            ])
        }
        return event(choices: [choice], usage: nil)
    }

    private func usageChunk() -> ByteBuffer {
        event(choices: [], usage: usageJSON(prompt: promptTokens, completion: completionTokens, cacheRead: cacheReadTokens, cacheCreation: cacheCreationTokens))
    }

    private func event(choices: [JSONValue], usage: JSONValue?) -> ByteBuffer {
        var members = [
            JSONMember("id", .string(id)), JSONMember("object", .string(output == .chat ? "chat.completion.chunk" : "text_completion")),
            JSONMember("created", .int(created)), JSONMember("model", .string(model)), JSONMember("choices", .array(choices)),
        ]
        if let usage { members.append(JSONMember("usage", usage)) }
        var out = ByteBuffer()
        out.writeStaticString("data: ")
        out.writeJSON(.object(members))
        out.writeStaticString("\n\n")
        return out
    }

    /// The `data` of an SSE event (its `data:` lines joined), or `nil` when it has none.
    static func data(of event: ByteBuffer) -> ByteBuffer? {
        event.withUnsafeReadableBytes { b -> ByteBuffer? in
            var lines: [Range<Int>] = []
            var start = 0
            while start < b.count {
                var end = start
                while end < b.count, b[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > start, b[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                if lineEnd - start >= 5, b[start] == UInt8(ascii: "d"), b[start + 1] == UInt8(ascii: "a"),
                   b[start + 2] == UInt8(ascii: "t"), b[start + 3] == UInt8(ascii: "a"), b[start + 4] == UInt8(ascii: ":") {
                    var from = start + 5
                    if from < lineEnd, b[from] == 0x20 { from += 1 }
                    lines.append(from..<lineEnd)
                }
                start = end + 1
            }
            guard !lines.isEmpty else { return nil }
            var out = ByteBuffer()
            for (n, line) in lines.enumerated() {
                if n > 0 { out.writeInteger(UInt8(0x0A)) }
                out.writeBytes(UnsafeRawBufferPointer(rebasing: b[line]))
            }
            return out
        }
    }

    // MARK: Complete answers

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        guard let message = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }), case .object = message else {
            throw .malformed("the Anthropic answer is not a JSON object")
        }
        if message["type"]?.stringValue == "error" { throw AnthropicErrors.streamFailure(body) }
        guard let content = message["content"]?.arrayValue else { throw .malformed("the Anthropic answer has no content") }

        var text = ""
        var reasoning: String?
        var thinkingBlocks: [JSONValue] = []
        var toolCalls: [JSONValue] = []
        var jsonAnswer: JSONValue?
        for block in content {
            switch block["type"]?.stringValue {
            case "text":
                text += block["text"]?.stringValue ?? ""
            case "tool_use":
                let name = block["name"]?.stringValue ?? ""
                let input = block["input"] ?? .object([])
                if jsonMode && name == AnthropicMessagesRequest.jsonToolName {
                    jsonAnswer = input
                    continue
                }
                toolCalls.append(.object([
                    JSONMember("id", .string(block["id"]?.stringValue ?? "")), JSONMember("type", .string("function")),
                    JSONMember("function", .object([JSONMember("name", .string(name)), JSONMember("arguments", .string(input.jsonText))])),
                ]))
            case "thinking":
                reasoning = (reasoning ?? "") + (block["thinking"]?.stringValue ?? "")
                thinkingBlocks.append(block)
            case "redacted_thinking":
                thinkingBlocks.append(block)
            default:
                break
            }
        }
        if let jsonAnswer, toolCalls.isEmpty {
            // LiteLLM unwraps a `values` member the model sometimes wraps the answer in.
            text = (jsonAnswer["values"] ?? jsonAnswer).jsonText
        }
        contentBytes = text.utf8.count + (reasoning?.utf8.count ?? 0) + toolCalls.reduce(0) { $0 + $1.jsonText.utf8.count }
        let u = message["usage"]
        let prompt = u?["input_tokens"]?.intValue ?? 0
        let completion = u?["output_tokens"]?.intValue ?? 0
        let cacheRead = u?["cache_read_input_tokens"]?.intValue
        let cacheCreation = u?["cache_creation_input_tokens"]?.intValue
        if u != nil { usage = TokenUsage(promptTokens: prompt + (cacheRead ?? 0), completionTokens: completion) }

        let reason = Self.finishReason(message["stop_reason"]?.stringValue, jsonAnswer: jsonAnswer != nil && toolCalls.isEmpty)
        let choice: JSONValue
        switch output {
        case .chat:
            var m = [JSONMember("role", .string("assistant")), JSONMember("content", text.isEmpty ? .null : .string(text))]
            if !toolCalls.isEmpty { m.append(JSONMember("tool_calls", .array(toolCalls))) }
            if let reasoning { m.append(JSONMember("reasoning_content", .string(reasoning))) }
            if !thinkingBlocks.isEmpty { m.append(JSONMember("thinking_blocks", .array(thinkingBlocks))) }
            choice = .object([JSONMember("index", .int(0)), JSONMember("message", .object(m)), JSONMember("finish_reason", .string(reason))])
        case .text:
            choice = .object([
                JSONMember("index", .int(0)), JSONMember("text", .string(text)), JSONMember("logprobs", .null),
                JSONMember("finish_reason", .string(reason)),
            ])
        }
        var members = [
            JSONMember("id", .string("chatcmpl-" + (message["id"]?.stringValue ?? ""))),
            JSONMember("object", .string(output == .chat ? "chat.completion" : "text_completion")),
            JSONMember("created", .int(created)), JSONMember("model", .string(message["model"]?.stringValue ?? "")),
            JSONMember("choices", .array([choice])),
        ]
        if u != nil {
            members.append(JSONMember("usage", usageJSON(prompt: prompt, completion: completion, cacheRead: cacheRead, cacheCreation: cacheCreation)))
        }
        var out = ByteBuffer()
        out.writeJSON(.object(members))
        return out
    }

    /// OpenAI's `usage`: prompt tokens count the cache reads, as LiteLLM does; Anthropic's cache
    /// counts are kept alongside.
    private func usageJSON(prompt: Int, completion: Int, cacheRead: Int?, cacheCreation: Int?) -> JSONValue {
        let promptTotal = prompt + (cacheRead ?? 0)
        var members = [
            JSONMember("prompt_tokens", .int(promptTotal)), JSONMember("completion_tokens", .int(completion)),
            JSONMember("total_tokens", .int(promptTotal + completion)),
        ]
        if let cacheRead {
            members.append(JSONMember("prompt_tokens_details", .object([JSONMember("cached_tokens", .int(cacheRead))])))
            members.append(JSONMember("cache_read_input_tokens", .int(cacheRead)))
        }
        if let cacheCreation { members.append(JSONMember("cache_creation_input_tokens", .int(cacheCreation))) }
        return .object(members)
    }

    /// Anthropic's `stop_reason` → OpenAI's `finish_reason`.
    static func finishReason(_ stopReason: String?, jsonAnswer: Bool) -> String {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": return "length"
        case "tool_use": return jsonAnswer ? "stop" : "tool_calls"
        case "refusal": return "content_filter"
        default: return "stop"  // end_turn, stop_sequence, pause_turn
        }
    }

    // MARK: Errors

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        AnthropicErrors.classify(status: status, body: body)
    }

    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        AnthropicErrors.openAIBody(status: status, body: body)
    }
}
