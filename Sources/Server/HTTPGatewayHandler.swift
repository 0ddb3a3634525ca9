import Logging
import NIOCore
import NIOHTTP1
import OpenAIWire

/// The server side of one client connection: collects each request (head and body), checks
/// auth, dispatches by route and writes the answer. One request at a time: parts of pipelined
/// requests that arrive while an answer is in progress are queued here and replayed when it
/// ends. (NIO's `HTTPServerPipelineHandler` does the same by pausing reads, which costs two
/// `epoll_ctl` calls per request even when nobody pipelines.)
final class HTTPGatewayHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        case collecting(HTTPRequestHead, Route, ByteBuffer?)
        /// The body went over the limit: its remaining parts are ignored, then the connection closes.
        case rejecting
        case answering
    }

    let gateway: GatewayContext
    let loop: LoopState
    private var state = State.idle
    private var keepAlive = true
    /// The model call in progress, if any.
    private var call: RelayCall?
    private(set) var context: ChannelHandlerContext?
    /// Parts of pipelined requests received while an answer was in progress.
    private var queued: [HTTPServerRequestPart] = []
    /// Reading pauses when this many parts are queued.
    private let maxQueuedParts = 64

    init(gateway: GatewayContext, loop: LoopState) {
        self.gateway = gateway
        self.loop = loop
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = state {
            queued.append(part)
            if queued.count == maxQueuedParts { context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
            return
        }
        if case .rejecting = state, case .head = part { return }
        receive(context, part)
    }

    private func receive(_ context: ChannelHandlerContext, _ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            keepAlive = head.isKeepAlive
            let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let route = Route.match(path)
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > gateway.maxBodyBytes {
                reject(context, .payloadTooLarge(limit: gateway.maxBodyBytes))
                return
            }
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
            state = .collecting(head, route, nil)
        case .body(var chunk):
            guard case .collecting(let head, let route, var body) = state else { return }
            state = .answering  // drop the reference so appending does not copy
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
            if body!.readableBytes > gateway.maxBodyBytes {
                reject(context, .payloadTooLarge(limit: gateway.maxBodyBytes))
                return
            }
            state = .collecting(head, route, body)
        case .end:
            switch state {
            case .collecting(let head, let route, let body):
                state = .answering
                dispatch(context, head, route, body ?? context.channel.allocator.buffer(capacity: 0))
            case .rejecting:
                state = .idle
            default:
                break
            }
        }
    }

    private func reject(_ context: ChannelHandlerContext, _ error: OpenAIError) {
        state = .rejecting
        keepAlive = false
        writeError(error, headers: nil)
    }

    private func dispatch(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ route: Route, _ body: ByteBuffer) {
        if gateway.detailedDebug { DebugLog.request(gateway.logger, head, body) }
        if route == .notFound {
            writeError(.notFound("Route \(head.method) \(head.uri) does not exist. Routes: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /v1/model/info, /health/liveliness, /health/readiness."), headers: nil)
            return
        }
        if head.method != route.method && !(head.method == .HEAD && route.method == .GET) {
            writeError(OpenAIError(status: 405, message: "Method \(head.method) is not allowed on \(head.uri); use \(route.method).", type: "invalid_request_error"), headers: nil)
            return
        }
        if !route.isPublic, let key = gateway.masterKey, let failure = Auth.check(head.headers, masterKey: key) {
            writeError(failure, headers: nil)
            return
        }
        switch route {
        case .liveliness:
            writeJSON(status: .ok, InfoEndpoints.liveliness(), headers: nil)
        case .readiness:
            let ready = gateway.isReady
            writeJSON(status: ready ? .ok : .serviceUnavailable, InfoEndpoints.readiness(ready: ready), headers: nil)
        case .listModels:
            writeJSON(status: .ok, InfoEndpoints.models(gateway), headers: nil)
        case .modelInfo:
            writeJSON(status: .ok, InfoEndpoints.modelInfo(gateway), headers: nil)
        case .modelCall(let endpoint, let pathModel):
            let call = RelayCall(handler: self, endpoint: endpoint, pathModel: pathModel)
            self.call = call
            call.start(body: body)
        case .notFound:
            break
        }
    }

    // MARK: Answers (used by RelayCall too)

    /// Writes a complete JSON answer.
    func writeJSON(status: HTTPResponseStatus, _ body: ByteBuffer, headers extra: HTTPHeaders?) {
        guard let context else { return }
        var head = HTTPResponseHead(version: .http1_1, status: status)
        head.headers.reserveCapacity(8 + (extra?.count ?? 0))
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        if let extra { head.headers.add(contentsOf: extra) }
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        if gateway.detailedDebug { DebugLog.response(gateway.logger, head, body) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        finishResponse(context)
    }

    /// Writes an OpenAI-shaped error answer.
    func writeError(_ error: OpenAIError, headers extra: HTTPHeaders?) {
        guard let context else { return }
        var body = context.channel.allocator.buffer(capacity: 128 + error.message.utf8.count)
        error.writeBody(to: &body)
        var headers = extra ?? HTTPHeaders()
        if let retry = error.retryAfter { headers.replaceOrAdd(name: "retry-after", value: String(retry)) }
        if error.status >= 500 || error.status == 401 || error.status == 413 {
            gateway.logger.info("answered \(error.status): \(error.message)")
        }
        writeJSON(status: HTTPResponseStatus(statusCode: error.status), body, headers: headers)
    }

    /// Starts a streamed answer (`text/event-stream`, chunked).
    func writeStreamHead(headers extra: HTTPHeaders) {
        guard let context else { return }
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "content-type", value: "text/event-stream")
        head.headers.add(name: "cache-control", value: "no-cache")
        head.headers.add(contentsOf: extra)
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
    }

    func writeStreamChunk(_ buffer: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    func writeStreamEnd() {
        guard let context else { return }
        finishResponse(context)
    }

    private func finishResponse(_ context: ChannelHandlerContext) {
        call = nil
        if case .rejecting = state {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        state = .idle
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !queued.isEmpty { replayQueued(context) }
        } else {
            queued.removeAll()
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Feeds queued pipelined parts back in, until one of them starts a new answer.
    private func replayQueued(_ context: ChannelHandlerContext) {
        let wasFull = queued.count >= maxQueuedParts
        while !queued.isEmpty {
            if case .answering = state { break }
            receive(context, queued.removeFirst())
        }
        if wasFull && queued.count < maxQueuedParts {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    // MARK: Connection events

    func channelInactive(context: ChannelHandlerContext) {
        call?.clientDisconnected()
        call = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        call?.clientWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        gateway.logger.debug("client connection error: \(error)")
        context.close(promise: nil)
    }
}
