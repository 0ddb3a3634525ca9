import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One request for ``HTTPFetcher``.
public struct HTTPFetchRequest: Sendable {
    public var method: String
    public var url: String
    /// Extra headers; `Host`, `User-Agent`, `Content-Length` and `Connection` are added unless given.
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: ByteBuffer? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A complete answer: status, headers in order, body.
public struct HTTPFetchResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer

    public init(status: Int, headers: [(name: String, value: String)], body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(buffer: body) }

    /// The body's bytes.
    public var bytes: [UInt8] { Array(body.readableBytesView) }

    /// 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Why a fetch got no answer (a status of any kind is an answer, not an error).
public struct HTTPFetchError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// A small async HTTP/1.1 client for load-time and control-plane traffic (config objects,
/// credentials, tokens, webhooks): one connection per request (`Connection: close`), http and
/// https, a deadline for the whole exchange, the whole answer buffered (up to `maxBodyBytes`).
/// Never used on the relay path, which has its own pooled client.
///
/// ```swift
/// let answer = try await HTTPFetcher().fetch(.init(url: "https://example.com/config.yaml"))
/// if answer.isSuccess { print(answer.text) }
/// ```
public struct HTTPFetcher: Sendable {
    public let group: any EventLoopGroup
    /// Deadline for connecting, sending and reading the whole answer.
    public let timeout: TimeAmount
    public let maxBodyBytes: Int

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, timeout: TimeAmount = .seconds(10), maxBodyBytes: Int = 64 << 20) {
        self.group = group
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// The same fetcher with another deadline.
    public func with(timeout: TimeAmount) -> HTTPFetcher {
        HTTPFetcher(group: group, timeout: timeout, maxBodyBytes: maxBodyBytes)
    }

    /// The same fetcher with another cap on the answer's body.
    public func withMaximumBody(_ bytes: Int) -> HTTPFetcher {
        HTTPFetcher(group: group, timeout: timeout, maxBodyBytes: bytes)
    }

    public func get(_ url: String, headers: [(name: String, value: String)] = []) async throws(HTTPFetchError) -> HTTPFetchResponse {
        try await fetch(HTTPFetchRequest(method: "GET", url: url, headers: headers))
    }

    public func post(_ url: String, headers: [(name: String, value: String)] = [], body: ByteBuffer) async throws(HTTPFetchError) -> HTTPFetchResponse {
        try await fetch(HTTPFetchRequest(method: "POST", url: url, headers: headers, body: body))
    }

    public func put(_ url: String, headers: [(name: String, value: String)] = [], body: ByteBuffer = ByteBuffer()) async throws(HTTPFetchError) -> HTTPFetchResponse {
        try await fetch(HTTPFetchRequest(method: "PUT", url: url, headers: headers, body: body))
    }

    /// Sends `request` and returns the complete answer; throws on a bad URL, a connection or TLS
    /// failure, a timeout or an answer larger than `maxBodyBytes`.
    public func fetch(_ request: HTTPFetchRequest) async throws(HTTPFetchError) -> HTTPFetchResponse {
        guard let target = HTTPURL(request.url) else { throw HTTPFetchError("not an http(s) URL") }
        do {
            return try await exchange(request, target: target)
        } catch let error as HTTPFetchError {
            throw error
        } catch {
            throw HTTPFetchError("\(target.origin): \(Self.describe(error))")
        }
    }

    private func exchange(_ request: HTTPFetchRequest, target: HTTPURL) async throws -> HTTPFetchResponse {
        let promise = group.next().makePromise(of: HTTPFetchResponse.self)
        let limit = maxBodyBytes
        let origin = target.origin
        let channel: any Channel
        do {
            channel = try await Self.connect(target, group: group, timeout: timeout) { sync in
                try sync.addHandler(ResponseCollector(promise: promise, limit: limit, origin: origin))
            }.get()
        } catch {
            promise.fail(error)
            throw HTTPFetchError("cannot connect to \(origin): \(Self.describe(error))")
        }
        Self.write(request, target: target, keepAlive: false, to: channel)
        let deadline = timeout
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTPFetchError("\(origin): no complete answer within \(deadline.nanoseconds / 1_000_000) ms"))
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    /// A connection to `target` (TLS for https) with HTTP/1.1 client handlers, then what
    /// `addHandlers` adds.
    static func connect(
        _ target: HTTPURL, group: any EventLoopGroup, timeout: TimeAmount,
        addHandlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        let tls: NIOSSLContext?
        do {
            tls = target.tls ? try tlsContext() : nil
        } catch {
            return group.next().makeFailedFuture(error)
        }
        return ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        let name = target.host.contains(":") || target.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : target.host
                        try sync.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try sync.addHTTPClientHandlers()
                    try addHandlers(sync)
                }
            }
            .connect(host: target.host, port: target.port)
    }

    /// Writes `request` (head, body, end) to `channel`; `keepAlive: false` asks the server to
    /// close the connection after its answer (`Connection: close`).
    static func write(_ request: HTTPFetchRequest, target: HTTPURL, keepAlive: Bool, to channel: any Channel) {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target.pathAndQuery)
        func given(_ name: String) -> Bool { request.headers.contains { $0.name.lowercased() == name } }
        if !given("host") { head.headers.add(name: "Host", value: target.hostHeader) }
        if !given("user-agent") { head.headers.add(name: "User-Agent", value: "switchboard") }
        if request.body != nil || request.method == "POST" || request.method == "PUT" {
            head.headers.add(name: "Content-Length", value: String(request.body?.readableBytes ?? 0))
        }
        if !keepAlive { head.headers.add(name: "Connection", value: "close") }
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body = request.body, body.readableBytes > 0 { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    private static let sharedTLS: Result<NIOSSLContext, any Error> = Result {
        try NIOSSLContext(configuration: .makeClientConfiguration())
    }

    static func tlsContext() throws -> NIOSSLContext { try sharedTLS.get() }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPFetchError { return error.description }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connect timed out" }
        return String(describing: error)
    }
}

/// Gathers head and body; completes the promise when the answer ended (or the connection closed
/// after a head: a close-delimited body).
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<HTTPFetchResponse>
    var answer: AnswerGathering
    var done = false

    init(promise: EventLoopPromise<HTTPFetchResponse>, limit: Int, origin: String) {
        self.promise = promise
        answer = AnswerGathering(limit: limit, origin: origin)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch answer.add(unwrapInboundIn(data)) {
        case .more:
            break
        case .tooLarge(let error):
            finish(.failure(error))
            context.close(promise: nil)
        case .ended:
            complete()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if answer.head != nil { complete() } else { finish(.failure(HTTPFetchError("\(answer.origin): connection closed before an answer"))) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(HTTPFetchError("\(answer.origin): \(HTTPFetcher.describe(error))")))
        context.close(promise: nil)
    }

    private func complete() {
        guard let response = answer.response else { return }
        finish(.success(response))
    }

    private func finish(_ result: Result<HTTPFetchResponse, HTTPFetchError>) {
        guard !done else { return }
        done = true
        promise.completeWith(result.mapError { $0 as any Error })
    }
}
