import NIOCore
import OpenAIWire

/// OpenAI-shaped error bodies for providers whose errors are not (`{"error": "text"}`,
/// `{"message": …}`, plain text): `{"error":{"message","type","param","code"}}` with `code` the
/// status as a string and `type` the one LiteLLM's proxy gives for the status.
public enum ProviderErrorBody {
    /// The body for an upstream error answer with `message` (the provider's own words).
    public static func make(status: Int, message: String) -> ByteBuffer {
        var out = ByteBuffer()
        let text = message.isEmpty ? "The upstream answered \(status) with no message." : message
        OpenAIError(status: status, message: text, type: type(status: status)).writeBody(to: &out)
        return out
    }

    /// The provider's message in an error body: `error` (string, or object with `message`),
    /// else `message` / `detail`, else the body as text (cut at 4 KiB).
    public static func message(in body: ByteBuffer) -> String {
        let (_, _, message) = OpenAIErrorClassifier.fields(body)
        guard let message else { return "" }
        return message.utf8.count > 4096 ? String(message.prefix(4096)) + "…" : message
    }

    /// The OpenAI error `type` for a status (the gateway's table for upstream errors).
    public static func type(status: Int) -> String {
        switch status {
        case 400: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_denied_error"
        case 404: return "not_found_error"
        case 408: return "timeout"
        case 422: return "unprocessable_entity_error"
        case 429: return "rate_limit_error"
        case 503: return "service_unavailable_error"
        default: return status >= 500 ? "internal_server_error" : "upstream_error"
        }
    }
}
