import CallModel
import NIOCore

/// Hugging Face's error answers (TGI: `{"error": "…", "error_type": "validation"}`; the hosted
/// API: `{"error": "Model … is currently loading", "estimated_time": …}`) classified and put in
/// OpenAI's shape. TGI's token-limit validation errors are context-window errors.
enum HuggingFaceErrors {
    static func classify(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        let message = ProviderErrorBody.message(in: body).lowercased()
        if contextWindowMarks.contains(where: { message.contains($0) }) { return .contextWindowExceeded }
        return OpenAIErrorClassifier.classify(status: status, body: body)
    }

    /// TGI's input validation messages about token limits.
    static let contextWindowMarks = [
        "`inputs` tokens + `max_new_tokens` must be", "`inputs` must have less than", "input validation error: `inputs` tokens",
        "exceeds the maximum", "context length",
    ]

    static func clientBody(status: Int, body: ByteBuffer) -> ByteBuffer {
        if OpenAIErrorClassifier.isOpenAIError(body) { return body }
        return ProviderErrorBody.make(status: status, message: ProviderErrorBody.message(in: body))
    }
}

/// Chat through an OpenAI-compatible Hugging Face API (TGI's Messages API, the router): relayed
/// by ``OpenAIResponseTranslator``, errors classified and shaped by ``HuggingFaceErrors``.
public final class HuggingFaceMessagesTranslator: ResponseTranslator {
    private let relay: OpenAIResponseTranslator

    public init(hideUsageChunk: Bool) {
        relay = OpenAIResponseTranslator(hideUsageChunk: hideUsageChunk)
    }

    public func handling(for head: UpstreamHead) -> BodyHandling { relay.handling(for: head) }
    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) { try relay.stream(bytes, emit: emit) }
    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) { try relay.streamEnd(emit: emit) }
    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer { try relay.translate(body) }
    public var usage: TokenUsage? { relay.usage }
    public var contentBytes: Int { relay.contentBytes }
    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind { HuggingFaceErrors.classify(status: status, body: body) }
    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? { HuggingFaceErrors.clientBody(status: status, body: body) }
}
