import CallModel
import NIOCore
import OpenAIWire

/// Anthropic's error answers (`{"type": "error", "error": {"type": "overloaded_error", "message": ...}}`,
/// as a body or as a stream's `event: error`), classified and rewritten in OpenAI's shape the way
/// LiteLLM maps them to its exceptions: "prompt is too long" is a context-window error (so
/// `context_window_fallbacks` apply), `overloaded_error` (529) and `api_error` are server errors,
/// `rate_limit_error` is a rate limit, `authentication_error` / `permission_error` are
/// authentication failures, `not_found_error` is not found.
public enum AnthropicErrors {
    /// `error.type` and `error.message` of an Anthropic error body, when it is one.
    static func fields(_ body: ByteBuffer) -> (type: String?, message: String)? {
        guard body.readableBytes > 0, body.readableBytes <= 1 << 20,
              let value = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }),
              let error = value["error"], case .object = error else { return nil }
        return (error["type"]?.stringValue, error["message"]?.stringValue ?? error.jsonText)
    }

    static let contextWindowMarks = [
        "prompt is too long", "prompt: length", "exceed context limit", "context window", "context length", "too many tokens",
    ]
    static let contentPolicyMarks = ["content filtering policy", "content policy"]

    /// What an Anthropic error answer means.
    public static func classify(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        guard let (type, message) = fields(body) else { return OpenAIErrorClassifier.byStatus(status) }
        let text = message.lowercased()
        if contextWindowMarks.contains(where: { text.contains($0) }) { return .contextWindowExceeded }
        if contentPolicyMarks.contains(where: { text.contains($0) }) { return .contentPolicy }
        switch type {
        case "overloaded_error", "api_error", "timeout_error": return .serverError
        case "rate_limit_error": return .rateLimit
        case "authentication_error", "permission_error": return .authentication
        case "not_found_error": return .notFound
        case "invalid_request_error", "request_too_large": return status >= 500 ? .serverError : .badRequest
        default: return OpenAIErrorClassifier.byStatus(status)
        }
    }

    /// The error in OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`, code the
    /// status as a string), or `nil` when the body is not an Anthropic error.
    public static func openAIBody(status: Int, body: ByteBuffer) -> ByteBuffer? {
        guard let (type, message) = fields(body) else { return nil }
        let kind = classify(status: status, body: body)
        let openAIType: String
        switch kind {
        case .contextWindowExceeded: openAIType = "context_window_exceeded"
        case .contentPolicy: openAIType = "content_policy_violation"
        default: openAIType = openAITypeName(anthropicType: type, status: status)
        }
        var out = ByteBuffer()
        OpenAIError(status: status, message: "AnthropicException - \(message)", type: openAIType).writeBody(to: &out)
        return out
    }

    /// OpenAI's (and LiteLLM's) error type for an Anthropic error type.
    static func openAITypeName(anthropicType: String?, status: Int) -> String {
        switch anthropicType {
        case "invalid_request_error", "request_too_large": return "invalid_request_error"
        case "authentication_error": return "authentication_error"
        case "permission_error": return "permission_denied_error"
        case "not_found_error": return "not_found_error"
        case "rate_limit_error": return "rate_limit_error"
        case "api_error", "overloaded_error": return "internal_server_error"
        case "timeout_error": return "timeout"
        default:
            switch status {
            case 400, 413: return "invalid_request_error"
            case 401: return "authentication_error"
            case 403: return "permission_denied_error"
            case 404: return "not_found_error"
            case 429: return "rate_limit_error"
            default: return status >= 500 ? "internal_server_error" : "upstream_error"
            }
        }
    }

    /// The HTTP status Anthropic answers an error type with (a stream's `event: error` has none).
    static func status(forType type: String?) -> Int {
        switch type {
        case "invalid_request_error": return 400
        case "authentication_error": return 401
        case "billing_error": return 402
        case "permission_error": return 403
        case "not_found_error": return 404
        case "request_too_large": return 413
        case "rate_limit_error": return 429
        case "timeout_error": return 504
        case "overloaded_error": return 529
        default: return 500
        }
    }

    /// The failure for an `event: error` in a stream, whose `data` is `payload`.
    static func streamFailure(_ payload: ByteBuffer) -> UpstreamFailure {
        let status = status(forType: fields(payload)?.type)
        return .status(UpstreamErrorStatus(
            status: status, kind: classify(status: status, body: payload), body: payload,
            clientBody: openAIBody(status: status, body: payload), retryAfter: nil))
    }
}
