import CallModel
import NIOCore
import OpenAIWire

/// Text Generation Inference's `/generate` and `/generate_stream` answers → OpenAI's.
///
/// - `/generate`: `{"generated_text": "…", "details": {"finish_reason", "generated_tokens", …}}`
///   (or a one-element list of it, as Inference Endpoints' root route answers) →
///   `chat.completion` (or `text_completion` for the completions endpoint).
/// - `/generate_stream`: SSE, `data:{"token":{"text","special"},"generated_text":null,"details":null}`
///   per token, the last with `generated_text` and `details` → chunks; special tokens (`</s>`)
///   are not text. Each token event becomes one chunk as it arrives.
///
/// Usage: completion tokens from `details.generated_tokens`; TGI does not report the prompt's,
/// so it is estimated (four bytes a token) and the usage is marked `estimated`.
public final class TGIResponseTranslator: ResponseTranslator {
    let streaming: Bool
    let clientWantsUsage: Bool
    let promptBytes: Int
    private var writer: OpenAIAnswerWriter
    private var splitter = SSEEventSplitter()
    private var started = false
    private var finished = false
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    public init(kind: OpenAIAnswerWriter.Kind, model: String, stream: Bool, clientWantsUsage: Bool, promptBytes: Int) {
        streaming = stream
        self.clientWantsUsage = clientWantsUsage
        self.promptBytes = promptBytes
        writer = OpenAIAnswerWriter(model: model, kind: kind)
    }

    public func handling(for head: UpstreamHead) -> BodyHandling {
        streaming ? .stream : .buffer
    }

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        var out = ByteBuffer()
        var failure: UpstreamFailure?
        defer { if out.readableBytes > 0 { emit(out) } }
        splitter.split(bytes, keep: { event in
            if failure == nil {
                do throws(UpstreamFailure) { try translateEvent(event, into: &out) } catch { failure = error }
            }
            return false
        }, emit: { _ in })
        if let failure { throw failure }
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        var out = ByteBuffer()
        defer { if out.readableBytes > 0 { emit(out) } }
        if let rest = splitter.finish() { try translateEvent(rest, into: &out) }
        if !finished { throw UpstreamFailure.malformed("the TGI stream ended before its last event (with generated_text)") }
    }

    /// One SSE event (`data:{…}`) → chunks in `out`.
    private func translateEvent(_ event: ByteBuffer, into out: inout ByteBuffer) throws(UpstreamFailure) {
        guard !finished, let data = Self.data(of: event) else { return }
        let value = try Self.parse(data)
        if let message = value["error"]?.stringValue {
            let kind = HuggingFaceErrors.classify(status: 500, body: data)
            throw UpstreamFailure.status(UpstreamErrorStatus(
                status: 500, kind: kind, body: data, clientBody: ProviderErrorBody.make(status: 500, message: message), retryAfter: nil))
        }
        let token = value["token"]
        var text = token?["special"]?.boolValue == true ? "" : (token?["text"]?.stringValue ?? "")
        let details = value["details"]
        let last = !(value["generated_text"]?.isNull ?? true) || !(details?.isNull ?? true)
        if last, text.isEmpty, !started, let whole = value["generated_text"]?.stringValue { text = whole }
        if !text.isEmpty || !started {
            writeText(text, into: &out)
            contentBytes += text.utf8.count
            started = true
        }
        guard last else { return }
        finished = true
        usage = tokenUsage(details)
        writeFinish(Self.finishReason(details), into: &out)
        if clientWantsUsage, let usage { writer.writeUsageChunk(usage, into: &out) }
        OpenAIAnswerWriter.writeDone(into: &out)
    }

    private func writeText(_ text: String, into out: inout ByteBuffer) {
        switch writer.kind {
        case .chat:
            var delta: [JSONMember] = []
            if !started { delta.append(JSONMember("role", .string("assistant"))) }
            delta.append(JSONMember("content", .string(text)))
            writer.writeChunk(delta: .object(delta), finishReason: nil, into: &out)
        case .text:
            writer.writeChunk(text: text, finishReason: nil, into: &out)
        }
    }

    private func writeFinish(_ reason: String, into out: inout ByteBuffer) {
        switch writer.kind {
        case .chat: writer.writeChunk(delta: .object([]), finishReason: reason, into: &out)
        case .text: writer.writeChunk(text: "", finishReason: reason, into: &out)
        }
    }

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        var value = try Self.parse(body)
        if case .array(let items) = value, let first = items.first { value = first }
        guard let text = value["generated_text"]?.stringValue else {
            throw UpstreamFailure.malformed("TGI's answer has no generated_text")
        }
        contentBytes = text.utf8.count
        let details = value["details"]
        usage = tokenUsage(details)
        var out = ByteBuffer()
        let reason = Self.finishReason(details)
        switch writer.kind {
        case .chat:
            let message = JSONValue.object([JSONMember("role", .string("assistant")), JSONMember("content", .string(text))])
            writer.writeAnswer(message: message, finishReason: reason, usage: usage, into: &out)
        case .text:
            writer.writeAnswer(text: text, finishReason: reason, usage: usage, into: &out)
        }
        return out
    }

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind { HuggingFaceErrors.classify(status: status, body: body) }

    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? { HuggingFaceErrors.clientBody(status: status, body: body) }

    // MARK: Pieces

    /// Completion tokens from `details.generated_tokens` (else estimated from the text), the
    /// prompt's estimated: always marked `estimated`.
    private func tokenUsage(_ details: JSONValue?) -> TokenUsage {
        let estimate = TokenUsage.estimate(promptBytes: promptBytes, completionBytes: contentBytes)
        return TokenUsage(
            promptTokens: estimate.promptTokens, completionTokens: details?["generated_tokens"]?.intValue ?? estimate.completionTokens,
            estimated: true)
    }

    /// `length` stays `length`; `eos_token` and `stop_sequence` are `stop`.
    static func finishReason(_ details: JSONValue?) -> String {
        details?["finish_reason"]?.stringValue == "length" ? "length" : "stop"
    }

    /// The `data:` payload of an event (`data:` with or without a space; other fields ignored).
    static func data(of event: ByteBuffer) -> ByteBuffer? {
        let view = event.readableBytesView
        var lineStart = view.startIndex
        while lineStart < view.endIndex {
            let lineEnd = view[lineStart...].firstIndex(of: 0x0A) ?? view.endIndex
            var line = view[lineStart..<lineEnd]
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: "data:".utf8) {
                var start = line.startIndex + 5
                if start < line.endIndex, line[start] == 0x20 { start += 1 }
                return event.getSlice(at: start, length: line.endIndex - start)
            }
            lineStart = lineEnd + 1
        }
        return nil
    }

    static func parse(_ bytes: ByteBuffer) throws(UpstreamFailure) -> JSONValue {
        do {
            return try bytes.withUnsafeReadableBytes { try JSONValue.parse($0) }
        } catch {
            throw UpstreamFailure.malformed("Hugging Face sent JSON that could not be read (\(error))")
        }
    }
}
