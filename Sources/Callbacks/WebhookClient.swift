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
        try await client.fetch(Self.request(url, contentType: contentType, headers: headers, body: body)).status
    }

    /// The response status, on `loop` (the POST is sent from it: no thread hop when called
    /// there); fails on a transport failure or timeout.
    public func post(
        _ url: String, contentType: String = "application/json", headers: [(String, String)], body: ByteBuffer, on loop: any EventLoop
    ) -> EventLoopFuture<Int> {
        client.fetch(Self.request(url, contentType: contentType, headers: headers, body: body), on: loop).map(\.status)
    }

    private static func request(_ url: String, contentType: String, headers: [(String, String)], body: ByteBuffer) -> HTTPFetchRequest {
        HTTPFetchRequest(method: "POST", url: url, headers: [(name: "Content-Type", value: contentType)] + headers.map { (name: $0.0, value: $0.1) }, body: body)
    }
}
