import NIOCore

/// Why one attempt against one deployment failed. The router decides what follows (retry,
/// fallback, cooldown) from the case alone; the client's answer is derived from it too.
///
/// ```swift
/// switch failure {
/// case .status(let s) where s.kind == .contextWindowExceeded: // try context_window_fallbacks
/// default: if failure.isRetryable { /* try again */ }
/// }
/// ```
public enum UpstreamFailure: Error, Sendable, CustomStringConvertible {
    /// The connection could not be opened, or broke, before any byte of the answer arrived.
    case connection(ConnectionFailure)
    /// No complete answer within `timeout` (for a stream: no first event within
    /// `stream_timeout`), in seconds.
    case timeout(seconds: Double)
    /// A stream fell silent for longer than `stream_timeout` between events, in seconds.
    case streamSilence(seconds: Double)
    /// The connection broke after part of the answer had arrived.
    case interrupted(ConnectionFailure)
    /// The upstream answered with an error status.
    case status(UpstreamErrorStatus)
    /// The answer could not be understood (bad HTTP framing, JSON that is not an answer).
    case malformed(String)
    /// The answer's body was larger than the configured limit, in bytes.
    case bodyTooLarge(limit: Int)
    /// The client went away; nothing more is done for it.
    case clientGone
    /// The deployment cannot be called (missing credential, unsupported provider): the message says why.
    case notCallable(status: Int, type: String, message: String)
    /// No deployment of the group could take the request (all at their rpm/tpm limits or
    /// cooling down): why, and seconds until one could.
    case noDeploymentAvailable(reason: String, retryAfter: Double)

    /// Whether another attempt (on the same or another deployment) may succeed.
    public var isRetryable: Bool {
        switch self {
        case .connection, .timeout, .streamSilence, .interrupted, .malformed: return true
        case .status(let s): return s.kind.isRetryable
        case .bodyTooLarge, .clientGone, .notCallable, .noDeploymentAvailable: return false
        }
    }

    /// Which list of fallbacks this failure triggers, if any.
    public var fallback: FallbackKind? {
        switch self {
        case .status(let s):
            switch s.kind {
            case .contextWindowExceeded: return .contextWindow
            case .contentPolicy: return .contentPolicy
            case .badRequest, .notFound: return nil
            case .rateLimit, .authentication, .serverError, .other: return .general
            }
        case .clientGone, .bodyTooLarge: return nil
        case .connection, .timeout, .streamSilence, .interrupted, .malformed, .notCallable, .noDeploymentAvailable: return .general
        }
    }

    /// Whether the failure counts against the deployment's health (cooldowns).
    public var isDeploymentFault: Bool {
        switch self {
        case .status(let s): return s.kind == .rateLimit || s.kind == .serverError || s.kind == .authentication
        case .connection, .timeout, .streamSilence, .interrupted, .malformed: return true
        case .bodyTooLarge, .clientGone, .notCallable, .noDeploymentAvailable: return false
        }
    }

    /// A short stable name, for records, logs and metrics labels.
    public var name: String {
        switch self {
        case .connection(let c): return "connection_\(c.kind.rawValue)"
        case .timeout: return "timeout"
        case .streamSilence: return "stream_silence"
        case .interrupted: return "interrupted"
        case .status(let s): return s.kind.rawValue
        case .malformed: return "malformed"
        case .bodyTooLarge: return "body_too_large"
        case .clientGone: return "client_gone"
        case .notCallable: return "not_callable"
        case .noDeploymentAvailable: return "no_deployment_available"
        }
    }

    public var description: String {
        switch self {
        case .connection(let c): return "connection failed: \(c.detail)"
        case .timeout(let s): return "no answer within \(s) s"
        case .streamSilence(let s): return "stream silent for more than \(s) s"
        case .interrupted(let c): return "answer interrupted: \(c.detail)"
        case .status(let s): return "upstream answered \(s.status) (\(s.kind.rawValue))"
        case .malformed(let m): return "malformed answer: \(m)"
        case .bodyTooLarge(let limit): return "answer larger than \(limit) bytes"
        case .clientGone: return "client went away"
        case .notCallable(_, _, let m): return m
        case .noDeploymentAvailable(let reason, _): return reason
        }
    }
}

/// A transport failure: what broke and how it was reported.
public struct ConnectionFailure: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case refused, reset, closed, tls, resolve, timeout, other
    }
    public var kind: Kind
    /// What the system said, for the client's message and the log.
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

/// An upstream error answer: status, classified kind, the upstream's own body and its
/// `Retry-After`.
public struct UpstreamErrorStatus: Sendable {
    public var status: Int
    public var kind: UpstreamErrorKind
    /// The body as the upstream sent it.
    public var body: ByteBuffer
    /// The error for the client in OpenAI's shape, when the provider's translator made one
    /// (otherwise the gateway wraps `body` as text).
    public var clientBody: ByteBuffer?
    /// Seconds, from `Retry-After` / `retry-after-ms`.
    public var retryAfter: Double?

    public init(status: Int, kind: UpstreamErrorKind, body: ByteBuffer, clientBody: ByteBuffer? = nil, retryAfter: Double?) {
        self.status = status
        self.kind = kind
        self.body = body
        self.clientBody = clientBody
        self.retryAfter = retryAfter
    }
}

/// What an upstream error answer means, classified from its status and body.
public enum UpstreamErrorKind: String, Sendable {
    case rateLimit = "rate_limit"
    case contextWindowExceeded = "context_window_exceeded"
    case contentPolicy = "content_policy_violation"
    case authentication = "authentication"
    case badRequest = "bad_request"
    case notFound = "not_found"
    case serverError = "server_error"
    case other = "other"

    /// 429, 5xx and unclassified answers may succeed on another try; 400/401/403/404 never do.
    public var isRetryable: Bool {
        switch self {
        case .rateLimit, .serverError, .other: return true
        case .contextWindowExceeded, .contentPolicy, .authentication, .badRequest, .notFound: return false
        }
    }
}

/// The fallback lists of LiteLLM's router.
public enum FallbackKind: String, Sendable {
    /// `fallbacks` (and `default_fallbacks`).
    case general
    /// `context_window_fallbacks`.
    case contextWindow
    /// `content_policy_fallbacks`.
    case contentPolicy
}
