import CloudAuth
import NIOCore

/// POSTs callback batches (OTLP traces, generic webhooks, Slack): side traffic, never on the
/// request path, over kept-alive connections (``HTTPKeepAliveClient``: no connect and close
/// per batch). http and https.
///
/// ```swift
/// let status = try await WebhookClient(group: group).post(url, headers: [("x-k", "v")], body: bytes)
/// ```
public struct WebhookClient: Sendable {
    let client: HTTPKeepAliveClient

    public init(group: any EventLoopGroup, timeout: TimeAmount = .seconds(10)) {
        client = HTTPKeepAliveClient(group: group, timeout: timeout, maxBodyBytes: 1 << 20)
    }

    /// The response status; throws on a transport failure or timeout.
    public func post(_ url: String, contentType: String = "application/json", headers: [(String, String)], body: ByteBuffer) async throws -> Int {
        let all = [(name: "Content-Type", value: contentType)] + headers.map { (name: $0.0, value: $0.1) }
        return try await client.fetch(HTTPFetchRequest(method: "POST", url: url, headers: all, body: body)).status
    }
}
