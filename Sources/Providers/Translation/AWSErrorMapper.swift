import CallModel
import NIOCore
import OpenAIWire

/// AWS JSON errors (`{"message": "..."}`, the error type being in `x-amzn-errortype`, which
/// translators do not see) and event stream exceptions, mapped to LiteLLM's kinds and
/// OpenAI's error shape. Kinds come from the status (ValidationException 400,
/// AccessDeniedException 403, ResourceNotFoundException 404, ThrottlingException 429,
/// ModelErrorException 424, ModelTimeoutException 408, 5xx) and the message (context window).
public enum AWSErrorMapper {
    /// `message` / `Message` of an AWS error body, or the body as text.
    public static func message(_ body: ByteBuffer) -> String {
        if body.readableBytes > 0, body.readableBytes <= 1 << 20,
           let value = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }) {
            if let m = value["message"]?.stringValue ?? value["Message"]?.stringValue ?? value["error"]?.stringValue
                ?? value["error"]?["message"]?.stringValue {
                return m
            }
        }
        let text = String(buffer: body)
        return text.isEmpty ? "no message" : String(text.prefix(4096))
    }

    static let contextWindowMarks = OpenAIErrorClassifier.contextWindowMarks + [
        "too many input tokens", "input too long", "input is too long", "maximum input length", "prompt is too long",
        "`inputs` tokens + `max_new_tokens` must be",
    ]

    public static func classify(status: Int, message: String) -> UpstreamErrorKind {
        let lower = message.lowercased()
        if [400, 413, 422, 424].contains(status), contextWindowMarks.contains(where: { lower.contains($0) }) { return .contextWindowExceeded }
        if OpenAIErrorClassifier.contentPolicyMarks.contains(where: { lower.contains($0) }) || lower.contains("guardrail") {
            return .contentPolicy
        }
        // ServiceQuotaExceededException comes as a 400: a quota is a rate limit.
        if status == 400, lower.contains("throttl") || lower.contains("too many requests") || lower.contains("service quota") {
            return .rateLimit
        }
        switch status {
        case 424, 408: return .serverError
        default: return OpenAIErrorClassifier.byStatus(status)
        }
    }

    public static func classify(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        classify(status: status, message: message(body))
    }

    /// `{"error": {"message", "type", "param", "code"}}` with LiteLLM's exception name in the message.
    public static func clientErrorBody(status: Int, message: String, provider: String) -> ByteBuffer {
        let kind = classify(status: status, message: message)
        let (exception, type) = names(kind: kind, status: status)
        var out = ByteBuffer()
        OpenAIError(status: status, message: "litellm.\(exception): \(provider)Exception - \(message)", type: type).writeBody(to: &out)
        return out
    }

    static func names(kind: UpstreamErrorKind, status: Int) -> (exception: String, type: String) {
        switch kind {
        case .contextWindowExceeded: return ("ContextWindowExceededError", "context_window_exceeded")
        case .contentPolicy: return ("ContentPolicyViolationError", "content_policy_violation")
        case .rateLimit: return ("RateLimitError", "rate_limit_error")
        case .authentication: return status == 403 ? ("PermissionDeniedError", "permission_denied_error") : ("AuthenticationError", "authentication_error")
        case .notFound: return ("NotFoundError", "not_found_error")
        case .badRequest: return ("BadRequestError", "invalid_request_error")
        case .serverError:
            switch status {
            case 503: return ("ServiceUnavailableError", "service_unavailable_error")
            case 408: return ("Timeout", "timeout")
            default: return ("InternalServerError", "internal_server_error")
            }
        case .other: return ("APIError", "upstream_error")
        }
    }

    /// The HTTP status AWS gives an exception of this type (`throttlingException` → 429).
    public static func status(forException type: String) -> Int {
        switch type.lowercased() {
        case "throttlingexception", "toomanyrequestsexception": return 429
        case "validationexception": return 400
        case "accessdeniedexception": return 403
        case "resourcenotfoundexception": return 404
        case "modeltimeoutexception": return 408
        case "modelerrorexception", "modelstreamerrorexception": return 424
        case "serviceunavailableexception": return 503
        default: return 500
        }
    }

    /// The failure an `exception` (or `error`) message in an event stream ends the stream with.
    public static func streamFailure(_ message: AWSEventStreamMessage, provider: String) -> UpstreamFailure {
        let type = message.exceptionType ?? message.string(":error-code") ?? "InternalServerException"
        let status = status(forException: type)
        var text = message.string(":error-message") ?? AWSErrorMapper.message(message.payload)
        if text == "no message" { text = type }
        else { text = "\(type): \(text)" }
        let body = clientErrorBody(status: status, message: text, provider: provider)
        return .status(UpstreamErrorStatus(
            status: status, kind: classify(status: status, message: text), body: message.payload, clientBody: body, retryAfter: nil))
    }
}
