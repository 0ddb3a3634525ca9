import CallModel
import NIOCore

/// Answers of OpenAI-compatible servers are already the client's answers: bodies pass through
/// untouched (zero-copy), and the translator only reads the `usage` on the way. For streams it
/// finds event boundaries, so that the client's first byte is a whole event, and hides the
/// usage-only chunk that the gateway asked for (`stream_options.include_usage`) when the client
/// did not.
public final class OpenAIResponseTranslator: ResponseTranslator {
    /// Drop the final `"choices": []` usage chunk (the client did not ask for it).
    let hideUsageChunk: Bool
    private var splitter = SSEEventSplitter()
    public private(set) var usage: TokenUsage?
    public private(set) var contentBytes = 0

    public init(hideUsageChunk: Bool) {
        self.hideUsageChunk = hideUsageChunk
    }

    public func handling(for head: UpstreamHead) -> BodyHandling {
        head.contentKind == .eventStream ? .stream : .buffer
    }

    public func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        contentBytes += bytes.readableBytes
        splitter.split(bytes, keep: keep, emit: emit)
    }

    /// Reads the usage of each event; keeps every event but the hidden usage chunk.
    private func keep(_ event: ByteBuffer) -> Bool {
        guard let found = UsageFinder.usage(inEvent: event) else { return true }
        usage = found.usage
        return !(hideUsageChunk && found.usageOnly)
    }

    public func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure) {
        guard var rest = splitter.finish() else { return }
        if keep(rest) {
            rest.writeStaticString("\n\n")
            emit(rest)
        }
    }

    public func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer {
        contentBytes = body.readableBytes
        usage = UsageFinder.usage(inAnswer: body)
        return body
    }

    public func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        OpenAIErrorClassifier.classify(status: status, body: body)
    }

    /// OpenAI-compatible servers already answer errors in OpenAI's shape: relayed as they are.
    public func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        OpenAIErrorClassifier.isOpenAIError(body) ? body : nil
    }
}
