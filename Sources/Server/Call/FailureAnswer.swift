import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import Providers

/// What the client is told when a call fails: an OpenAI-shaped error with the right status (an
/// upstream's own OpenAI-shaped error body is relayed as it is), or, once a stream has started,
/// an SSE error event.
struct FailureAnswer {
    let status: Int
    /// The upstream's body, relayed as it is.
    let relayedBody: ByteBuffer?
    let error: OpenAIError

    init(_ failure: UpstreamFailure, group: String, apiBase: String) {
        var relayed: ByteBuffer?
        let error: OpenAIError
        switch failure {
        case .connection(let c):
            error = .upstreamUnavailable("Could not connect to the upstream of model group '\(group)' at \(apiBase): \(c.detail) (\(c.kind.rawValue)).")
        case .interrupted(let c):
            error = .upstreamUnavailable("The upstream of model group '\(group)' broke off its answer: \(c.detail).")
        case .timeout(let s):
            error = .timeout("Request to model group '\(group)' timed out after \(Self.seconds(s)) s (timeout / request_timeout; stream_timeout for streams).")
        case .streamSilence(let s):
            error = .timeout("The stream of model group '\(group)' was silent for more than \(Self.seconds(s)) s (stream_timeout).")
        case .malformed(let m):
            error = .upstreamUnavailable("The upstream of model group '\(group)' sent an answer that could not be read: \(m).")
        case .bodyTooLarge(let limit):
            error = .upstreamUnavailable("The upstream of model group '\(group)' answered more than \(limit) bytes (SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES).")
        case .notCallable(let status, let type, let message):
            error = OpenAIError(status: status, message: message, type: type)
        case .noDeploymentAvailable(let reason, let after):
            error = OpenAIError(status: 429, message: reason, type: "rate_limit_error", retryAfter: max(1, Int(after.rounded(.up))))
        case .clientGone:
            error = OpenAIError(status: 499, message: "The client closed the request.", type: "client_closed_request")
        case .status(let s):
            let retryAfter = s.retryAfter.map { Int($0.rounded(.up)) }
            if let clientBody = s.clientBody {
                relayed = clientBody
                error = OpenAIError(status: s.status, message: "", type: ProviderErrorBody.type(status: s.status), retryAfter: retryAfter)
            } else {
                var text = String(buffer: s.body)
                if text.utf8.count > 4096 { text = String(text.prefix(4096)) + "…" }
                error = OpenAIError(
                    status: s.status, message: text.isEmpty ? "The upstream answered \(s.status) with no body." : text,
                    type: ProviderErrorBody.type(status: s.status), retryAfter: retryAfter)
            }
        }
        status = error.status
        relayedBody = relayed
        self.error = error
    }

    func write(to handler: HTTPGatewayHandler, meta: ResponseMetadata) {
        if let relayedBody {
            handler.writeJSON(status: HTTPResponseStatus(statusCode: status), relayedBody, meta: meta, retryAfter: error.retryAfter)
        } else {
            handler.writeError(error, meta: meta)
        }
    }

    /// `data: {"error": ...}` as the stream's last event.
    func writeStreamEvent(to handler: HTTPGatewayHandler) {
        var event = ByteBuffer()
        event.writeStaticString("data: ")
        if let relayedBody {
            var body = relayedBody
            event.writeBuffer(&body)
        } else {
            error.writeBody(to: &event)
        }
        event.writeStaticString("\n\n")
        handler.writeStreamChunk(event)
    }

    private static func seconds(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : String(s)
    }
}
