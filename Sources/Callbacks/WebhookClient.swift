import CloudAuth
import NIOCore

/// POSTs JSON to callback endpoints (generic webhooks, Slack): side traffic, one connection per
/// batch, never on the request path. http and https (through ``HTTPFetcher``).
///
/// ```swift
/// let status = try await WebhookClient(group: group).post(url, headers: [("x-k", "v")], body: bytes)
/// ```
public struct WebhookClient: Sendable {
    let fetcher: HTTPFetcher

    public init(group: any EventLoopGroup, timeout: TimeAmount = .seconds(10)) {
        fetcher = HTTPFetcher(group: group, timeout: timeout, maxBodyBytes: 1 << 20)
    }

    /// The response status; throws on a transport failure or timeout.
    public func post(_ url: String, contentType: String = "application/json", headers: [(String, String)], body: ByteBuffer) async throws -> Int {
        let all = [(name: "Content-Type", value: contentType)] + headers.map { (name: $0.0, value: $0.1) }
        return try await fetcher.post(url, headers: all, body: body).status
    }
}
