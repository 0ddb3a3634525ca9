import NIOCore

/// Turns one upstream answer into the client's (OpenAI-shaped) answer. One per attempt, made
/// by the deployment's provider; called on the event loop, in order: ``head(_:)``, then the
/// body (``stream(_:emit:)`` … ``streamEnd(emit:)`` for a stream, or ``translate(_:)`` once
/// for a complete body), and ``usage`` at the end.
///
/// Error answers (non-2xx) are never translated: the attempt buffers them and asks
/// ``classifyError(status:body:)`` what they mean.
public protocol ResponseTranslator: AnyObject {
    /// Whether a successful answer with this head is relayed as a stream or buffered whole.
    func handling(for head: UpstreamHead) -> BodyHandling

    /// Stream bytes as they arrive, split anywhere → client bytes, passed to `emit` only in
    /// whole events (so the first `emit` is the stream's first event).
    func stream(_ bytes: ByteBuffer, emit: (ByteBuffer) -> Void) throws(UpstreamFailure)

    /// The stream ended: emits what is still due (e.g. a last event without its blank line).
    func streamEnd(emit: (ByteBuffer) -> Void) throws(UpstreamFailure)

    /// A complete successful body → the client's body.
    func translate(_ body: ByteBuffer) throws(UpstreamFailure) -> ByteBuffer

    /// What an error answer means.
    func classifyError(status: Int, body: ByteBuffer) -> UpstreamErrorKind

    /// The error answer in OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`) for
    /// the client, or `nil` to have the gateway wrap the upstream's body as text.
    func clientErrorBody(status: Int, body: ByteBuffer) -> ByteBuffer?

    /// Tokens reported by the answer (known once the body ended), `nil` if it reported none.
    var usage: TokenUsage? { get }

    /// Bytes of answer content relayed, for estimating tokens when ``usage`` is `nil`.
    var contentBytes: Int { get }
}

/// How a successful answer's body is handled.
public enum BodyHandling: Sendable, Equatable {
    /// Relayed event by event as it arrives.
    case stream
    /// Buffered to the end, then translated once.
    case buffer
}
