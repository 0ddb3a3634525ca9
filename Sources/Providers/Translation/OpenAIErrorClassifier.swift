import CallModel
import NIOCore
import OpenAIWire

/// Classifies an OpenAI-shaped error answer (`{"error": {"message", "type", "code"}}`) the way
/// LiteLLM maps provider errors to its exceptions: context-window and content-policy errors
/// are recognised by code, type or message; the rest by status.
public enum OpenAIErrorClassifier {
    public static func classify(status: Int, body: ByteBuffer) -> UpstreamErrorKind {
        let (code, type, message) = fields(body)
        let words = [code, type, message].compactMap { $0?.lowercased() }
        if words.contains(where: { w in contextWindowMarks.contains(where: { w.contains($0) }) }) { return .contextWindowExceeded }
        if words.contains(where: { w in contentPolicyMarks.contains(where: { w.contains($0) }) }) { return .contentPolicy }
        return byStatus(status)
    }

    /// Whether `body` is an OpenAI error envelope (`{"error": {...}}`).
    public static func isOpenAIError(_ body: ByteBuffer) -> Bool {
        guard let scan = try? JSONScanner.scanObject(body), let i = scan.index(of: "error", in: body) else { return false }
        return scan.members[i].valueLead == UInt8(ascii: "{")
    }

    /// The kind an error status means by itself.
    public static func byStatus(_ status: Int) -> UpstreamErrorKind {
        switch status {
        case 429: return .rateLimit
        case 401, 403: return .authentication
        case 404: return .notFound
        case 400, 405, 409, 413, 415, 422: return .badRequest
        case 408, 500...599: return .serverError
        default: return .other
        }
    }

    static let contextWindowMarks = [
        "context_length_exceeded", "context window", "maximum context length", "context length",
        "too many tokens", "prompt is too long", "input is too long", "exceeds the maximum number of tokens",
    ]
    static let contentPolicyMarks = [
        "content_policy_violation", "content_filter", "content management policy", "safety system",
        "responsibleaipolicyviolation", "content policy",
    ]

    /// `error.code`, `error.type`, `error.message` (or a top-level `message`/`detail`).
    static func fields(_ body: ByteBuffer) -> (code: String?, type: String?, message: String?) {
        guard body.readableBytes > 0, body.readableBytes <= 1 << 20, let value = try? body.withUnsafeReadableBytes({ try JSONValue.parse($0) }) else {
            let text = String(buffer: body)
            return (nil, nil, text.isEmpty ? nil : String(text.prefix(2048)))
        }
        let error = value["error"]
        if let error, let message = error.stringValue { return (nil, nil, message) }
        return (
            error?["code"]?.stringValue ?? error?["code"]?.intValue.map(String.init),
            error?["type"]?.stringValue,
            error?["message"]?.stringValue ?? value["message"]?.stringValue ?? value["detail"]?.stringValue)
    }
}
