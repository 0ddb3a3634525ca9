/// What the relay keeps of an upstream response head. Parsed straight from the bytes: headers
/// nobody needs are skipped without allocating.
public struct UpstreamHead: Sendable, Equatable {
    /// The media type of the body, as far as translators care.
    public enum ContentKind: Sendable, Equatable {
        case json
        case eventStream
        /// `application/x-ndjson` (Ollama streams).
        case ndjson
        /// `application/vnd.amazon.eventstream` (Bedrock streams).
        case awsEventStream
        case other
        case none
    }

    public var status: Int
    public var keepAlive: Bool
    public var contentKind: ContentKind
    /// Seconds, from `Retry-After` (delta seconds) or `retry-after-ms`.
    public var retryAfter: Double?
    /// The provider's `x-ratelimit-*` headers.
    public var rateLimit: RateLimitHeaders

    public init(status: Int, keepAlive: Bool = true, contentKind: ContentKind = .none, retryAfter: Double? = nil, rateLimit: RateLimitHeaders = .init()) {
        self.status = status
        self.keepAlive = keepAlive
        self.contentKind = contentKind
        self.retryAfter = retryAfter
        self.rateLimit = rateLimit
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// OpenAI-style rate-limit headers (`x-ratelimit-limit-requests`, `-remaining-tokens`,
/// `-reset-requests`, ...), as numbers. Absent headers are `nil`.
public struct RateLimitHeaders: Sendable, Equatable {
    public var limitRequests: Int?
    public var limitTokens: Int?
    public var remainingRequests: Int?
    public var remainingTokens: Int?
    /// Seconds until the request window resets (`1s`, `6m0s`, `20ms` are parsed).
    public var resetRequests: Double?
    /// Seconds until the token window resets.
    public var resetTokens: Double?

    public init() {}

    public var isEmpty: Bool {
        limitRequests == nil && limitTokens == nil && remainingRequests == nil && remainingTokens == nil
            && resetRequests == nil && resetTokens == nil
    }
}
