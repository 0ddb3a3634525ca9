import CallModel
import NIOCore
import OpenAIWire

/// Ollama's answers → OpenAI's.
///
/// - `/api/chat`: `{"model","created_at","message":{"role","content","thinking"?,"tool_calls"?},
///   "done","done_reason","prompt_eval_count","eval_count"}` → `chat.completion`; streamed as
///   NDJSON (one such object per line, the last with `done: true` and the counts) →
///   `chat.completion.chunk` events, one run per read, then the usage chunk when the client
///   asked and `[DONE]`.
/// - `/api/generate`: the same with `response` text → `text_completion` (and its chunks).
/// - `/api/embed`: `{"embeddings":[[…]],"prompt_eval_count"}` → an embeddings list, the vectors
///   copied as bytes.
///
/// Usage comes from `prompt_eval_count` / `eval_count`. Errors (`{"error": "…"}`, also as a
/// stream line) become OpenAI-shaped errors; a stream line with an error fails the attempt.
public final class OllamaResponseTranslator: ResponseTranslator {
    /// Which Ollama endpoint answers.
    public enum Mode: Sendable {
        case chat, generate, embed
    }

    let mode: Mode
    let streaming: Bool
    let clientWantsUsage: Bool
    private var writer: OpenAIAnswerWriter
    private var lines = NDJSONLineSplitter()
    private var started = false
    private var finished = false
    private var toolCalls = 0
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    public init(mode: Mode, model: String, stream: Bool, clientWantsUsage: Bool) {
        self.mode = mode
        self.streaming = stream && mode != .embed
        self.clientWantsUsage = clientWantsUsage
        writer = OpenAIAnswerWriter(model: model, kind: mode == .generate ? .text : .chat)
    }

    public func handling(for head: UpstreamHead) -> BodyHandling {
        streaming ? .stream : .buffer
    }

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        var out = ByteBuffer()
        defer { if out.readableBytes > 0 { emit(out) } }
        try lines.split(bytes) { (line) throws(UpstreamFailure) in try translateLine(line, into: &out) }
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        var out = ByteBuffer()
        defer { if out.readableBytes > 0 { emit(out) } }
        if let rest = lines.finish() { try translateLine(rest, into: &out) }
        if !finished { throw UpstreamFailure.malformed("the Ollama stream ended before its last line (done: true)") }
    }

    /// One NDJSON line → zero or more OpenAI events in `out`.
    private func translateLine(_ line: ByteBuffer, into out: inout ByteBuffer) throws(UpstreamFailure) {
        guard !finished else { return }
        let value = try Self.parse(line)
        if let message = value["error"]?.stringValue { throw Self.streamError(message, line: line) }
        if !started, let model = value["model"]?.stringValue, !model.isEmpty { writer.model = model }
        switch mode {
        case .chat:
            var delta: [JSONMember] = []
            if !started { delta.append(JSONMember("role", .string("assistant"))) }
            let message = value["message"]
            let content = message?["content"]?.stringValue ?? ""
            if !content.isEmpty || !started {
                delta.append(JSONMember("content", .string(content)))
                contentBytes += content.utf8.count
            }
            if let thinking = message?["thinking"]?.stringValue, !thinking.isEmpty {
                delta.append(JSONMember("reasoning_content", .string(thinking)))
                contentBytes += thinking.utf8.count
            }
            if let calls = message?["tool_calls"]?.arrayValue, !calls.isEmpty {
                delta.append(JSONMember("tool_calls", .array(convertToolCalls(calls, indexed: true))))
            }
            if !delta.isEmpty {
                writer.writeChunk(delta: .object(delta), finishReason: nil, into: &out)
                started = true
            }
        case .generate:
            let text = value["response"]?.stringValue ?? ""
            if !text.isEmpty || !started {
                writer.writeChunk(text: text, finishReason: nil, into: &out)
                contentBytes += text.utf8.count
                started = true
            }
        case .embed:
            return
        }
        guard value["done"]?.boolValue == true else { return }
        finished = true
        usage = Self.tokenUsage(value)
        let finish = finishReason(value)
        switch mode {
        case .chat: writer.writeChunk(delta: .object([]), finishReason: finish, into: &out)
        case .generate, .embed: writer.writeChunk(text: "", finishReason: finish, into: &out)
        }
        if clientWantsUsage, let usage { writer.writeUsageChunk(usage, into: &out) }
        OpenAIAnswerWriter.writeDone(into: &out)
    }

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        if mode == .embed { return try translateEmbeddings(body) }
        let value = try Self.parse(body)
        if let message = value["error"]?.stringValue { throw Self.streamError(message, line: body) }
        if let model = value["model"]?.stringValue, !model.isEmpty { writer.model = model }
        usage = Self.tokenUsage(value)
        var out = ByteBuffer()
        switch mode {
        case .chat:
            let message = value["message"]
            let content = message?["content"]?.stringValue ?? ""
            contentBytes = content.utf8.count
            var members = [JSONMember("role", .string("assistant"))]
            let calls = message?["tool_calls"]?.arrayValue ?? []
            members.append(JSONMember("content", content.isEmpty && !calls.isEmpty ? .null : .string(content)))
            if let thinking = message?["thinking"]?.stringValue, !thinking.isEmpty {
                members.append(JSONMember("reasoning_content", .string(thinking)))
            }
            if !calls.isEmpty { members.append(JSONMember("tool_calls", .array(convertToolCalls(calls, indexed: false)))) }
            writer.writeAnswer(message: .object(members), finishReason: finishReason(value), usage: usage, into: &out)
        case .generate, .embed:
            let text = value["response"]?.stringValue ?? ""
            contentBytes = text.utf8.count
            writer.writeAnswer(text: text, finishReason: finishReason(value), usage: usage, into: &out)
        }
        return out
    }

    /// `{"model","embeddings":[[…],…],"prompt_eval_count"}` → OpenAI's list, vectors copied.
    private func translateEmbeddings(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        guard let scan = try? JSONScanner.scanObject(body), let i = scan.index(of: "embeddings", in: body),
              let vectors = JSONArrayElements.split(body.getSlice(at: body.readerIndex + scan.members[i].valueStart, length: scan.members[i].valueEnd - scan.members[i].valueStart)!)
        else { throw UpstreamFailure.malformed("Ollama's embeddings answer has no embeddings list") }
        let model = scan.string("model", in: body) ?? writer.model
        let prompt = scan.value("prompt_eval_count", in: body)?.intValue
        usage = prompt.map { TokenUsage(promptTokens: $0, completionTokens: 0) }
        var out = ByteBuffer()
        OpenAIAnswerWriter.writeEmbeddings(vectors, model: model, promptTokens: prompt ?? 0, into: &out)
        return out
    }

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        OpenAIErrorClassifier.classify(status: status, body: body)
    }

    /// `{"error": "model 'x' not found"}` → OpenAI's shape with the same status.
    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        ProviderErrorBody.make(status: status, message: ProviderErrorBody.message(in: body))
    }

    // MARK: Pieces

    /// Ollama's tool calls (`{"function":{"name","arguments":{…}}}`) → OpenAI's (`id`, `type`,
    /// arguments as JSON text; `index` in stream deltas).
    private func convertToolCalls(_ calls: [JSONValue], indexed: Bool) -> [JSONValue] {
        calls.map { call in
            let function = call["function"]
            let arguments = function?["arguments"].map { $0.stringValue ?? $0.jsonText } ?? "{}"
            var members: [JSONMember] = []
            if indexed { members.append(JSONMember("index", .int(toolCalls))) }
            toolCalls += 1
            members.append(JSONMember("id", .string(call["id"]?.stringValue ?? "call_" + OpenAIAnswerWriter.randomID())))
            members.append(JSONMember("type", .string("function")))
            members.append(JSONMember("function", .object([
                JSONMember("name", .string(function?["name"]?.stringValue ?? "")), JSONMember("arguments", .string(arguments)),
            ])))
            contentBytes += arguments.utf8.count
            return .object(members)
        }
    }

    private func finishReason(_ value: JSONValue) -> String {
        if toolCalls > 0 { return "tool_calls" }
        return value["done_reason"]?.stringValue == "length" ? "length" : "stop"
    }

    static func tokenUsage(_ value: JSONValue) -> TokenUsage? {
        let prompt = value["prompt_eval_count"]?.intValue
        let completion = value["eval_count"]?.intValue
        if prompt == nil && completion == nil { return nil }
        return TokenUsage(promptTokens: prompt ?? 0, completionTokens: completion ?? 0)
    }

    static func parse(_ bytes: ByteBuffer) throws(UpstreamFailure) -> JSONValue {
        do {
            return try bytes.withUnsafeReadableBytes { try JSONValue.parse($0) }
        } catch {
            throw UpstreamFailure.malformed("Ollama sent JSON that could not be read (\(error))")
        }
    }

    /// An error reported inside a 200 answer (a stream line `{"error": "…"}`).
    static func streamError(_ message: String, line: ByteBuffer) -> UpstreamFailure {
        let kind = OpenAIErrorClassifier.classify(status: 500, body: line)
        return .status(UpstreamErrorStatus(
            status: 500, kind: kind, body: line, clientBody: ProviderErrorBody.make(status: 500, message: message), retryAfter: nil))
    }
}
