import CallModel
import NIOCore
import OpenAIWire

/// SageMaker InvokeEndpoint answers of the TGI container → OpenAI answers:
/// `[{"generated_text": ...}]` → `chat.completion`; the response stream (event stream
/// `PayloadPart` messages whose `Bytes` carry TGI's `data:{"token":{...}}` SSE lines, split
/// anywhere) → `chat.completion.chunk` events; `{"embedding": [[...]]}` → an embeddings list.
///
/// TGI reports no prompt token count, so usage is left to the gateway's estimate unless the
/// answer's `details` has both counts (`prefill` and `generated_tokens`).
public final class SageMakerResponseTranslator: ResponseTranslator {
    let endpoint: Endpoint
    let streaming: Bool
    let includeUsage: Bool
    let writer: ChatChunkWriter
    private var decoder = AWSEventStreamDecoder()
    private var splitter = SSEEventSplitter()
    private var sentRole = false
    private var finished = false
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    public init(endpoint: Endpoint, model: String, streaming: Bool, includeUsage: Bool) {
        self.endpoint = endpoint
        self.streaming = streaming
        self.includeUsage = includeUsage
        writer = ChatChunkWriter(model: model)
    }

    public func handling(for head: UpstreamHead) -> BodyHandling { streaming ? .stream : .buffer }

    // MARK: Stream

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        try decoder.feed(bytes) { (message: AWSEventStreamMessage) throws(UpstreamFailure) in
            switch message.messageType {
            case "exception", "error": throw AWSErrorMapper.streamFailure(message, provider: "Sagemaker")
            default: break
            }
            guard message.eventType == "PayloadPart" else { return }
            guard let part = try? message.payload.withUnsafeReadableBytes({ try JSONValue.parse($0) }),
                  let encoded = part["Bytes"]?.stringValue, let raw = Base64Decoding.decode(encoded) else {
                throw .malformed("SageMaker PayloadPart without base64 Bytes")
            }
            var failure: UpstreamFailure?
            self.splitter.split(ByteBuffer(bytes: raw), keep: { event in
                guard failure == nil else { return false }
                do throws(UpstreamFailure) {
                    for out in try self.translate(sse: event) { emit(out) }
                } catch {
                    failure = error
                }
                return false
            }, emit: { _ in })
            if let failure { throw failure }
        }
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        if decoder.hasPartialMessage { throw .malformed("the SageMaker event stream ended inside a message") }
        if let rest = splitter.finish() {
            for out in try translate(sse: rest) { emit(out) }
        }
        if !finished { emit(writer.chunk(delta: .object([]), finishReason: "stop")) }
        emit(ChatChunkWriter.done)
    }

    /// One TGI SSE event (`data:{"token":{"text","special"},"generated_text","details"}`) → chunks.
    func translate(sse event: ByteBuffer) throws(UpstreamFailure) -> [ByteBuffer] {
        let lines = String(buffer: event).split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        let text = lines.filter { $0.hasPrefix("data:") }.map { String($0.dropFirst(5)) }.joined().trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text != "[DONE]" else { return [] }
        guard let value = try? JSONValue.parse(text) else { throw .malformed("a TGI stream event that is not JSON") }
        if let error = value["error"]?.stringValue {
            let body = AWSErrorMapper.clientErrorBody(status: 424, message: error, provider: "Sagemaker")
            throw .status(UpstreamErrorStatus(status: 424, kind: AWSErrorMapper.classify(status: 424, message: error), body: ByteBuffer(string: text), clientBody: body, retryAfter: nil))
        }
        var out: [ByteBuffer] = []
        if let token = value["token"], token["special"]?.boolValue != true, let piece = token["text"]?.stringValue {
            contentBytes += piece.utf8.count
            var delta: [JSONMember] = []
            if !sentRole { delta.append(JSONMember("role", .string("assistant"))) }
            delta.append(JSONMember("content", .string(piece)))
            sentRole = true
            out.append(writer.chunk(delta: .object(delta)))
        }
        if let details = value["details"], details.objectValue != nil {
            finished = true
            out.append(writer.chunk(delta: .object([]), finishReason: Self.finishReason(details)))
            if let found = Self.usage(details) {
                usage = found
                if includeUsage { out.append(writer.usageChunk(found)) }
            }
        }
        return out
    }

    // MARK: Complete answers

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        guard let answer = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }) else {
            throw .malformed("the SageMaker answer is not JSON")
        }
        if endpoint == .embeddings {
            guard let vectors = answer["embedding"]?.arrayValue ?? answer["embeddings"]?.arrayValue else {
                throw .malformed("the SageMaker embeddings answer has no embedding")
            }
            let list = vectors.first?.arrayValue != nil ? vectors : [.array(vectors)]
            return ChatChunkWriter.embeddings(list, model: writer.model, promptTokens: nil)
        }
        let first = answer.arrayValue?.first ?? answer
        guard let text = first["generated_text"]?.stringValue else {
            throw .malformed("the SageMaker answer has no generated_text")
        }
        contentBytes = text.utf8.count
        let details = first["details"]
        usage = details.flatMap(Self.usage)
        return writer.completion(content: text, toolCalls: [], finishReason: details.map(Self.finishReason) ?? "stop", usage: usage)
    }

    /// TGI `details.finish_reason` (`length`, `eos_token`, `stop_sequence`) → OpenAI's.
    static func finishReason(_ details: JSONValue) -> String {
        details["finish_reason"]?.stringValue == "length" ? "length" : "stop"
    }

    /// Both counts, when TGI gave them (`prefill` is only filled with `decoder_input_details`).
    static func usage(_ details: JSONValue) -> TokenUsage? {
        guard let generated = details["generated_tokens"]?.intValue, let prefill = details["prefill"]?.arrayValue, !prefill.isEmpty else {
            return nil
        }
        return TokenUsage(promptTokens: prefill.count, completionTokens: generated)
    }

    // MARK: Errors

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        AWSErrorMapper.classify(status: status, body: body)
    }

    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        AWSErrorMapper.clientErrorBody(status: status, message: AWSErrorMapper.message(body), provider: "Sagemaker")
    }
}
