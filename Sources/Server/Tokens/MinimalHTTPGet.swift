import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal HTTP GET (http and https, redirects followed) for load-time side traffic: the
/// tokenizer downloads. Written for this branch while the load-time `HTTPFetcher` of the
/// `CloudAuth` target (branch `config-sources`) was not yet merged; fold it into that fetcher
/// when both are in main. Never used on the request path.
enum MinimalHTTPGet {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Status and body of `url`. `Authorization` is dropped when a redirect leaves the host (the
    /// hub redirects downloads to a CDN, which must not see the token).
    static func get(
        _ url: String, headers: [(String, String)], group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: TimeAmount = .seconds(120), maxBytes: Int = 512 << 20, redirects: Int = 5
    ) async throws -> (status: Int, body: [UInt8]) {
        guard var target = GetURL(url) else { throw Failure(description: "not an http(s) URL") }
        var headers = headers
        for _ in 0...redirects {
            let answer = try await once(target, headers: headers, group: group, timeout: timeout, maxBytes: maxBytes)
            guard (301...308).contains(answer.status), answer.status != 304, let location = answer.location else {
                return (answer.status, answer.body)
            }
            guard let next = target.resolving(location) else { throw Failure(description: "redirect to \(location) is not an http(s) URL") }
            if next.host != target.host || next.port != target.port || next.tls != target.tls {
                headers.removeAll { $0.0.lowercased() == "authorization" }
            }
            target = next
        }
        throw Failure(description: "more than \(redirects) redirects")
    }

    private static func once(
        _ target: GetURL, headers: [(String, String)], group: any EventLoopGroup, timeout: TimeAmount, maxBytes: Int
    ) async throws -> Collected {
        let tls: NIOSSLContext? = target.tls ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let host = target.host
        let promise = group.next().makePromise(of: Collected.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if let tls { try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host)) }
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(BodyCollector(promise: promise, maxBytes: maxBytes))
                    }
                }
                .connect(host: target.host, port: target.port)
                .get()
        } catch {
            promise.fail(error)
            throw error
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.pathAndQuery)
        head.headers.add(name: "Host", value: target.hostHeader)
        head.headers.add(name: "User-Agent", value: "switchboard")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timer = channel.eventLoop.scheduleTask(in: timeout) { promise.fail(Failure(description: "timed out")) }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    struct Collected: Sendable {
        var status: Int
        var location: String?
        var body: [UInt8]
    }

    /// Collects one response; completes the promise at its end (or fails it).
    final class BodyCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<Collected>
        let maxBytes: Int
        var answer: Collected?

        init(promise: EventLoopPromise<Collected>, maxBytes: Int) {
            self.promise = promise
            self.maxBytes = maxBytes
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                answer = Collected(status: Int(head.status.code), location: head.headers.first(name: "location"), body: [])
            case .body(let buffer):
                answer?.body.append(contentsOf: buffer.readableBytesView)
                if (answer?.body.count ?? 0) > maxBytes {
                    promise.fail(Failure(description: "answer larger than \(maxBytes) bytes"))
                    context.close(promise: nil)
                }
            case .end:
                if let answer { promise.succeed(answer) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(Failure(description: "connection closed before the answer ended"))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}

/// `http(s)://host[:port]/path?query`.
struct GetURL: Equatable {
    var tls: Bool
    var host: String
    var port: Int
    var pathAndQuery: String

    init?(_ text: String) {
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
        pathAndQuery = rest[end...].isEmpty ? "/" : String(rest[end...])
        port = tls ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"), let p = Int(authority[authority.index(after: colon)...]) {
            port = p
            authority = authority[..<colon]
        }
        host = String(authority.filter { $0 != "[" && $0 != "]" })
        guard !host.isEmpty else { return nil }
    }

    /// A redirect's `Location`: absolute, or a path on the same origin.
    func resolving(_ location: String) -> GetURL? {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return GetURL(location) }
        guard location.hasPrefix("/") else { return nil }
        var next = self
        next.pathAndQuery = location
        return next
    }

    var hostHeader: String { (tls && port == 443) || (!tls && port == 80) ? host : "\(host):\(port)" }
}
