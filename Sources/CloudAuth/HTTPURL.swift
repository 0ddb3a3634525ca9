/// An `http(s)://[user@]host[:port]/path?query` URL, split for an HTTP/1.1 request.
public struct HTTPURL: Sendable, Equatable {
    public var tls: Bool
    /// Host name or address (IPv6 without brackets).
    public var host: String
    public var port: Int
    /// The request target: path (at least `/`) and query as given.
    public var pathAndQuery: String

    public init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("https://") {
            tls = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            tls = false
            rest = rest.dropFirst(7)
        } else {
            return nil
        }
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let target = rest[end...]
        pathAndQuery = target.isEmpty ? "/" : (target.first == "?" ? "/" + target : String(target))
        port = tls ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), let p = Int(authority[authority.index(after: colon)...]) {
            port = p
            authority = authority[..<colon]
        }
        host = String(authority.filter { $0 != "[" && $0 != "]" })
        guard !host.isEmpty else { return nil }
    }

    /// The path without the query.
    public var path: String { String(pathAndQuery.prefix(while: { $0 != "?" })) }

    /// The query without `?` (empty when there is none).
    public var query: String {
        guard let q = pathAndQuery.firstIndex(of: "?") else { return "" }
        return String(pathAndQuery[pathAndQuery.index(after: q)...])
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        // (A byte search: `contains(":")` with a string argument is Foundation's, a CFString
        // search each POST.)
        let name = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return (tls && port == 443) || (!tls && port == 80) ? name : "\(name):\(port)"
    }

    /// `scheme://host[:port]` (no path).
    public var origin: String { (tls ? "https://" : "http://") + hostHeader }
}
