import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// POSTs JSON to callback endpoints (generic webhooks, Slack): side traffic, one connection per
/// batch, never on the request path. http and https.
///
/// ```swift
/// let status = try await WebhookClient(group: group).post(url, headers: [("x-k", "v")], body: bytes)
/// ```
public struct WebhookClient: Sendable {
    let group: any EventLoopGroup
    let timeout: TimeAmount

    public init(group: any EventLoopGroup, timeout: TimeAmount = .seconds(10)) {
        self.group = group
        self.timeout = timeout
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The response status; throws on a transport failure or timeout.
    public func post(_ url: String, headers: [(String, String)], body: ByteBuffer) async throws -> Int {
        guard let target = WebhookURL(url) else { throw Failure(description: "not an http(s) URL") }
        let tls: NIOSSLContext? = target.tls ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let host = target.host
        let promise = group.next().makePromise(of: Int.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host)) }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(StatusCatcher(promise: promise))
                }
            }
            .connect(host: target.host, port: target.port)
            .get()
        } catch {
            promise.fail(error)
            throw error
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.pathAndQuery)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "User-Agent", value: "switchboard")
        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(Failure(description: "timed out")) }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Completes the promise with the response status, once the response ended or the connection closed.
final class StatusCatcher: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<Int>
    var status: Int?

    init(promise: EventLoopPromise<Int>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body: break
        case .end: if let status { promise.succeed(status) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let status { promise.succeed(status) } else { promise.fail(WebhookClient.Failure(description: "connection closed before an answer")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// `http(s)://host[:port]/path?query`.
struct WebhookURL {
    var tls: Bool
    var host: String
    var port: Int
    var pathAndQuery: String

    init?(_ text: String) {
        var rest = Substring(text)
        if rest.hasPrefix("https://") { tls = true; rest = rest.dropFirst(8) } else if rest.hasPrefix("http://") { tls = false; rest = rest.dropFirst(7) } else { return nil }
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<end]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        pathAndQuery = rest[end...].isEmpty ? "/" : String(rest[end...])
        port = tls ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), let p = Int(authority[authority.index(after: colon)...]) {
            port = p
            authority = authority[..<colon]
        }
        host = String(authority.trimmingPrefix("[")).replacingOccurrences(of: "]", with: "")
        guard !host.isEmpty else { return nil }
    }

    var hostHeader: String { (tls && port == 443) || (!tls && port == 80) ? host : "\(host):\(port)" }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
