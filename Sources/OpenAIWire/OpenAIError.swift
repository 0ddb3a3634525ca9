import NIOCore

/// An error answered to the client in OpenAI's shape:
/// `{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}` with an HTTP status.
///
/// ```swift
/// throw OpenAIError.badRequest("Missing required parameter: 'model'", param: "model")
/// ```
public struct OpenAIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status to answer with.
    public var status: Int
    public var message: String
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, ...
    public var type: String
    public var param: String?
    /// Defaults to the status as a string, as LiteLLM does.
    public var code: String?
    /// Seconds the client should wait before retrying (sent as `Retry-After`).
    public var retryAfter: Int?
    /// The methods the route takes, sent as `Allow` with a 405 (RFC 9110 §15.5.6).
    public var allow: String?

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code ?? String(status)
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(type): \(message)" }

    /// The error body, exactly as sent.
    public func writeBody(to buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"error":{"message":"#)
        buffer.writeJSONString(message)
        buffer.writeStaticString(#","type":"#)
        buffer.writeJSONString(type)
        buffer.writeStaticString(#","param":"#)
        if let param { buffer.writeJSONString(param) } else { buffer.writeStaticString("null") }
        buffer.writeStaticString(#","code":"#)
        if let code { buffer.writeJSONString(code) } else { buffer.writeStaticString("null") }
        buffer.writeStaticString("}}")
    }

    // MARK: Common errors

    public static func badRequest(_ message: String, param: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    public static func unauthorized(_ message: String) -> OpenAIError {
        OpenAIError(status: 401, message: message, type: "auth_error", code: "401")
    }

    /// 405 for a method the route does not take; `allowed` becomes the `Allow` header.
    public static func methodNotAllowed(_ message: String, allowed: String) -> OpenAIError {
        var error = OpenAIError(status: 405, message: message, type: "invalid_request_error")
        error.allow = allowed
        return error
    }

    public static func notFound(_ message: String) -> OpenAIError {
        OpenAIError(status: 404, message: message, type: "not_found_error")
    }

    public static func payloadTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(status: 413, message: "Request body is larger than the limit of \(limit) bytes (general_settings.max_request_body_bytes).", type: "invalid_request_error")
    }

    public static func timeout(_ message: String) -> OpenAIError {
        OpenAIError(status: 408, message: message, type: "timeout")
    }

    public static func upstreamUnavailable(_ message: String) -> OpenAIError {
        OpenAIError(status: 502, message: message, type: "api_connection_error")
    }

    public static func internalError(_ message: String) -> OpenAIError {
        OpenAIError(status: 500, message: message, type: "internal_server_error")
    }
}
