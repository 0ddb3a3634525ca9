import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 client that keeps its connections open between requests (keep-alive), for
/// side traffic that POSTs to the same few endpoints again and again (the callbacks' batches):
/// no connect, TLS handshake and close per request. Idle connections wait per origin and are
/// reused one request at a time; a connection the server closed or answered
/// `Connection: close` on is dropped. A request that fails on a reused connection before any
/// byte of an answer arrived (the server closed it while it was idle) is sent once more on a
/// new one. Like ``HTTPFetcher``: http and https, a deadline for the whole exchange, the whole
/// answer buffered (up to `maxBodyBytes`).
///
/// ```swift
/// let client = HTTPKeepAliveClient(group: group)
/// let answer = try await client.fetch(.init(method: "POST", url: url, body: bytes))
/// ```
public final class HTTPKeepAliveClient: Sendable {
    public let group: any EventLoopGroup
    public let timeout: TimeAmount
    public let maxBodyBytes: Int
    /// Idle connections by origin (at most `maxIdlePerOrigin` each).
    private let idle = Mutex<[String: [Connection]]>([:])
    private let maxIdlePerOrigin = 4

    public init(group: any EventLoopGroup, timeout: TimeAmount = .seconds(10), maxBodyBytes: Int = 1 << 20) {
        self.group = group
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
    }

    deinit {
        for connections in idle.withLock({ $0.values }) {
            for c in connections { c.channel.close(promise: nil) }
        }
    }

    /// Sends `request` and returns the complete answer; throws on a bad URL, a connection or TLS
    /// failure, a timeout or an answer larger than `maxBodyBytes`.
    public func fetch(_ request: HTTPFetchRequest) async throws(HTTPFetchError) -> HTTPFetchResponse {
        do {
            return try await fetch(request, on: MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()).get()
        } catch let error as HTTPFetchError {
            throw error
        } catch {
            throw HTTPFetchError(HTTPFetcher.describe(error))
        }
    }

    /// Sends `request` from `loop`; the answer (or an ``HTTPFetchError``) completes on `loop`.
    /// A connection of `loop` is preferred, and a new one is made on it: called on its event
    /// loop, the whole exchange runs there, with no thread hop and no task.
    public func fetch(_ request: HTTPFetchRequest, on loop: any EventLoop) -> EventLoopFuture<HTTPFetchResponse> {
        guard let target = HTTPURL(request.url) else { return loop.makeFailedFuture(HTTPFetchError("not an http(s) URL")) }
        return send(request, target: target, from: loop)
    }

    private func send(_ request: HTTPFetchRequest, target: HTTPURL, from loop: any EventLoop) -> EventLoopFuture<HTTPFetchResponse> {
        if let reused = takeIdle(target.origin, preferring: loop) {
            return exchange(request, target: target, on: reused).hop(to: loop).flatMapError { error in
                // Closed while idle: another idle one, or a new connection.
                if error is ClosedBeforeAnswer { return self.send(request, target: target, from: loop) }
                return loop.makeFailedFuture(Self.wrap(error, target))
            }
        }
        return connect(target, on: loop)
            .flatMapErrorThrowing { error in throw HTTPFetchError("cannot connect to \(target.origin): \(HTTPFetcher.describe(error))") }
            .flatMap { connection in
                self.exchange(request, target: target, on: connection).hop(to: loop)
                    .flatMapErrorThrowing { error in throw Self.wrap(error, target) }
            }
    }

    /// Closes the idle connections.
    public func shutdown() {
        let all = idle.withLock { i -> [Connection] in defer { i = [:] }; return i.values.flatMap { $0 } }
        for c in all { c.channel.close(promise: nil) }
    }

    // MARK: Connections

    struct Connection: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<KeepAliveResponseHandler>
    }

    /// An idle connection to `origin`, one of `loop`'s when there is one.
    private func takeIdle(_ origin: String, preferring loop: any EventLoop) -> Connection? {
        while let c = idle.withLock({ i -> Connection? in
            guard var list = i[origin], !list.isEmpty else { return nil }
            let at = list.lastIndex { $0.channel.eventLoop === loop } ?? list.count - 1
            defer { i[origin] = list }
            return list.remove(at: at)
        }) {
            if c.channel.isActive { return c }
            c.channel.close(promise: nil)
        }
        return nil
    }

    private func putIdle(_ c: Connection, _ origin: String) {
        let kept = idle.withLock { i -> Bool in
            guard i[origin, default: []].count < maxIdlePerOrigin else { return false }
            i[origin, default: []].append(c)
            return true
        }
        if !kept { c.channel.close(promise: nil) }
    }

    private func connect(_ target: HTTPURL, on loop: any EventLoop) -> EventLoopFuture<Connection> {
        let limit = maxBodyBytes
        let origin = target.origin
        return HTTPFetcher.connect(target, group: loop, timeout: timeout) { sync in
            try sync.addHandler(KeepAliveResponseHandler(limit: limit, origin: origin))
        }.flatMapThrowing { channel in
            // The channel is `loop`'s: this runs on it.
            let handler = try channel.pipeline.syncOperations.handler(type: KeepAliveResponseHandler.self)
            return Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
        }
    }

    /// One request on `c`, completed on `c`'s loop; `c` goes back to the idle connections when
    /// the answer was complete and the server keeps the connection open.
    private func exchange(_ request: HTTPFetchRequest, target: HTTPURL, on c: Connection) -> EventLoopFuture<HTTPFetchResponse> {
        let loop = c.channel.eventLoop
        let promise = loop.makePromise(of: HTTPKeepAliveAnswer.self)
        let origin = target.origin
        let deadline = timeout
        let timer = loop.scheduleTask(in: timeout) {
            promise.fail(HTTPFetchError("\(origin): no complete answer within \(deadline.nanoseconds / 1_000_000) ms"))
            c.channel.close(promise: nil)
        }
        let begin: @Sendable () -> Void = {
            c.handler.value.begin(promise)
            HTTPFetcher.write(request, target: target, keepAlive: true, to: c.channel)
        }
        if loop.inEventLoop { begin() } else { loop.execute(begin) }
        return promise.futureResult.always { result in
            timer.cancel()
            switch result {
            case .success(let answer) where answer.reusable: self.putIdle(c, origin)
            default: c.channel.close(promise: nil)
            }
        }.map(\.response)
    }

    private static func wrap(_ error: any Error, _ target: HTTPURL) -> HTTPFetchError {
        if let error = error as? HTTPFetchError { return error }
        if case ClosedBeforeAnswer.error? = error as? ClosedBeforeAnswer {
            return HTTPFetchError("\(target.origin): connection closed before an answer")
        }
        return HTTPFetchError("\(target.origin): \(HTTPFetcher.describe(error))")
    }
}

/// The connection closed (or failed) before any byte of the answer arrived.
enum ClosedBeforeAnswer: Error {
    case error
}

/// A complete answer, and whether its connection can carry another request.
struct HTTPKeepAliveAnswer: Sendable {
    var response: HTTPFetchResponse
    var reusable: Bool
}

/// Gathers one answer at a time on a kept-alive connection (``HTTPKeepAliveClient``); only
/// its channel's event loop touches it.
final class KeepAliveResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private var promise: EventLoopPromise<HTTPKeepAliveAnswer>?
    private var answer: AnswerGathering

    init(limit: Int, origin: String) {
        answer = AnswerGathering(limit: limit, origin: origin)
    }

    /// The next answer completes `promise`.
    func begin(_ promise: EventLoopPromise<HTTPKeepAliveAnswer>) {
        self.promise = promise
        answer.reset()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else { return }
        switch answer.add(unwrapInboundIn(data)) {
        case .more:
            break
        case .tooLarge(let error):
            finish(.failure(error))
            context.close(promise: nil)
        case .ended:
            guard let head = answer.head, let response = answer.response else { return }
            finish(.success(HTTPKeepAliveAnswer(response: response, reusable: head.isKeepAlive)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let response = answer.response {
            // A close-delimited body: complete, and the connection is done.
            finish(.success(HTTPKeepAliveAnswer(response: response, reusable: false)))
        } else {
            finish(.failure(ClosedBeforeAnswer.error))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(answer.head == nil ? .failure(ClosedBeforeAnswer.error) : .failure(HTTPFetchError("\(answer.origin): \(HTTPFetcher.describe(error))")))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<HTTPKeepAliveAnswer, any Error>) {
        guard let p = promise else { return }
        promise = nil
        p.completeWith(result)
    }
}
