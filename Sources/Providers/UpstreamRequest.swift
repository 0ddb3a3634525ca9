import NIOCore
import NIOHTTP1

/// Which OpenAI operation a request is.
public enum Endpoint: Sendable, Equatable {
    case chatCompletions
    case completions
    case embeddings

    /// The OpenAI path suffix (appended to an OpenAI-compatible `api_base`).
    public var pathSuffix: String {
        switch self {
        case .chatCompletions: return "/chat/completions"
        case .completions: return "/completions"
        case .embeddings: return "/embeddings"
        }
    }
}

/// Where an upstream lives: the key of the connection pool.
public struct UpstreamTarget: Hashable, Sendable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int

    public init(tls: Bool, host: String, port: Int) {
        self.tls = tls
        self.host = host
        self.port = port
    }

    public var description: String { "\(tls ? "https" : "http")://\(host):\(port)" }

    /// The `Host` header value (port omitted when it is the scheme's default).
    public var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return (tls && port == 443) || (!tls && port == 80) ? bracketed : "\(bracketed):\(port)"
    }
}

/// An absolute http(s) URL split into target and path, e.g. an `api_base`.
public struct UpstreamURL: Sendable, Equatable {
    public var target: UpstreamTarget
    /// The path without a trailing slash (`/v1`, or empty).
    public var path: String
    /// The query string without `?`, or empty.
    public var query: String
    /// The user-info (`user:password@`), decoded, when the URL has one.
    public var credentials: BasicCredentials?

    /// Parses `http://[user[:password]@]host[:port]/path?query`; `nil` when it is not an http(s) URL.
    public init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        let tls: Bool
        if rest.lowercased().hasPrefix("https://") { tls = true; rest = rest.dropFirst(8) }
        else if rest.lowercased().hasPrefix("http://") { tls = false; rest = rest.dropFirst(7) }
        else { return nil }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        var credentials: BasicCredentials?
        if let at = authority.lastIndex(of: "@") {
            if at > authority.startIndex { credentials = BasicCredentials(userInfo: authority[..<at]) }
            authority = authority[authority.index(after: at)...]
        }
        var host: Substring
        var port = tls ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = authority
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        var path = rest
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            path = rest[..<q]
            query = rest[rest.index(after: q)...]
        }
        while path.hasSuffix("/") { path = path.dropLast() }
        target = UpstreamTarget(tls: tls, host: String(host), port: port)
        self.path = String(path)
        self.query = String(query)
        self.credentials = credentials
    }
}

/// A fully built upstream HTTP request. `Content-Length` is added when it is written.
public struct UpstreamRequest {
    public var target: UpstreamTarget
    public var method: HTTPMethod
    /// Path and query, e.g. `/v1/chat/completions`.
    public var uri: String
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(target: UpstreamTarget, method: HTTPMethod = .POST, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.target = target
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop(while: { set.contains($0) }).reversed().drop(while: { set.contains($0) }).reversed())
    }
}

extension Set where Element == Character {
    static let whitespaces: Set<Character> = [" ", "\t", "\n", "\r"]
}
