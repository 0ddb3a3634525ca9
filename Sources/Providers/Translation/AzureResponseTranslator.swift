import CallModel
import NIOCore
import OpenAIWire

/// Azure OpenAI's answers are OpenAI's: relayed by ``OpenAIResponseTranslator`` (streams, usage,
/// the hidden usage chunk). Errors are classified as OpenAI's are, plus Azure's content filter:
/// `error.code` `content_filter` or `error.innererror.code` `ResponsibleAIPolicyViolation` is a
/// content-policy error (LiteLLM's `ContentPolicyViolationError`, which drives
/// `content_policy_fallbacks`).
public final class AzureResponseTranslator: ResponseTranslator {
    private let relay: OpenAIResponseTranslator

    public init(hideUsageChunk: Bool) {
        relay = OpenAIResponseTranslator(hideUsageChunk: hideUsageChunk)
    }

    public func handling(for head: UpstreamHead) -> BodyHandling { relay.handling(for: head) }

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        try relay.stream(bytes, emit: emit)
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) { try relay.streamEnd(emit: emit) }

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer { try relay.translate(body) }

    public var usage: TokenUsage? { relay.usage }

    public var contentBytes: Int { relay.contentBytes }

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        if Self.isContentFilter(body) { return .contentPolicy }
        return OpenAIErrorClassifier.classify(status: status, body: body)
    }

    /// Azure's errors are OpenAI-shaped and relayed as they are; others are wrapped.
    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        if OpenAIErrorClassifier.isOpenAIError(body) { return body }
        return ProviderErrorBody.make(status: status, message: ProviderErrorBody.message(in: body))
    }

    /// `error.code == "content_filter"` or `error.innererror.code == "ResponsibleAIPolicyViolation"`.
    static func isContentFilter(_ body: ByteBuffer) -> Bool {
        guard body.readableBytes > 0, body.readableBytes <= 1 << 20,
              let value = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }),
              let error = value["error"] else { return false }
        if error["code"]?.stringValue == "content_filter" { return true }
        let inner = error["innererror"] ?? error["inner_error"]
        return inner?["code"]?.stringValue == "ResponsibleAIPolicyViolation"
    }
}
