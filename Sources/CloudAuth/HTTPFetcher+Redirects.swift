import NIOCore

extension HTTPFetcher {
    /// GET `url`, following up to `redirects` redirections (301, 302, 303, 307, 308) as downloads
    /// from a hub to its CDN need. `Authorization` is dropped when a redirect leaves the origin,
    /// so the CDN never sees the token. The final answer is returned whatever its status.
    public func getFollowingRedirects(
        _ url: String, headers: [(name: String, value: String)] = [], redirects: Int = 5
    ) async throws(HTTPFetchError) -> HTTPFetchResponse {
        guard var current = HTTPURL(url) else { throw HTTPFetchError("not an http(s) URL") }
        var headers = headers
        for _ in 0...redirects {
            let answer = try await get(current.origin + current.pathAndQuery, headers: headers)
            guard [301, 302, 303, 307, 308].contains(answer.status), let location = answer.header("location") else {
                return answer
            }
            guard let next = current.resolving(location) else {
                throw HTTPFetchError("redirect to \(location) is not an http(s) URL")
            }
            if next.origin != current.origin {
                headers.removeAll { $0.name.lowercased() == "authorization" }
            }
            current = next
        }
        throw HTTPFetchError("more than \(redirects) redirects")
    }
}

extension HTTPURL {
    /// Where a `Location` header points from this URL: absolute, or a path on the same origin.
    public func resolving(_ location: String) -> HTTPURL? {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return HTTPURL(location) }
        guard location.hasPrefix("/") else { return nil }
        var next = self
        next.pathAndQuery = location
        return next
    }
}
