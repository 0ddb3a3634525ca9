import CallModel
import Logging
import Metrics
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

    enum State {
        case idle
        case collecting(HTTPRequestHead, Route, ByteBuffer?)
        /// The body went over the limit: its remaining parts are ignored, then the connection closes.
        case rejecting
        /// The request was answered from its head (unknown route, wrong method, no valid key):
        /// its body is read and dropped, never held, up to `remaining` bytes.
        case discarding(remaining: Int)
        case answering
    }

    let gateway: GatewayContext
    let loop: LoopState
    /// Responses are encoded here and written below NIO's response encoder.
    let wire: WireTap
    private var requestMethod = HTTPMethod.GET
    private var requestVersion = HTTPVersion.http1_1
    /// Whether the stream in progress is chunk-framed (HTTP/1.1) or raw until close (HTTP/1.0).
    private var chunked = true
    private var state = State.idle
    private var keepAlive = true
    /// The model call in progress, if any.
    private var call: Call?
    private(set) var context: ChannelHandlerContext?
    /// Parts of pipelined requests received while an answer was in progress.
    private var queued: [HTTPServerRequestPart] = []
    /// Reading pauses when this many parts are queued.
    private let maxQueuedParts = 64

    init(gateway: GatewayContext, loop: LoopState, wire: WireTap) {
        self.gateway = gateway
        self.loop = loop
        self.wire = wire
    }

    /// When the connection last started or finished a request (uptime nanoseconds).
    private(set) var lastActivity = NIODeadline.now().uptimeNanoseconds

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loop.connections[ObjectIdentifier(self)] = self
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        if loop.connections.removeValue(forKey: ObjectIdentifier(self)) != nil { gateway.connectionClosed() }
    }

    /// The call being answered on this connection, for monitors.
    func openCall(now: UInt64) -> OpenCallSnapshot? { call?.snapshot(now: now) }

    /// Closes the connection when it idled, or has been sending one request, for longer than
    /// the idle timeout (called by the loop's sweep).
    func closeIfStale(now: UInt64, limit: UInt64) {
        guard now &- lastActivity > limit, let context else { return }
        switch state {
        case .idle:
            context.close(promise: nil)
        case .collecting:
            keepAlive = false
            state = .rejecting
            writeError(OpenAIError(status: 408, message: "The request was not received in time.", type: "timeout"), meta: nil)
        case .discarding:
            keepAlive = false
            context.close(promise: nil)
        case .answering, .rejecting:
            break
        }
    }

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
            lastActivity = NIODeadline.now().uptimeNanoseconds
            keepAlive = head.isKeepAlive && gateway.isReady  // while draining, answers close the connection
            requestMethod = head.method
            requestVersion = head.version
            let path = head.uri[..<(head.uri.firstIndex(of: "?") ?? head.uri.endIndex)]
            let route = Route.match(path)
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > gateway.maxBodyBytes {
                reject(context, .payloadTooLarge(limit: gateway.maxBodyBytes))
                return
            }
            if let early = earlyAnswer(head, route) {
                answerFromHead(context, early)
                return
            }
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                var interim = context.channel.allocator.buffer(capacity: 32)
                interim.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
                wire.context?.writeAndFlush(NIOAny(interim), promise: nil)
            }
            state = .collecting(head, route, nil)
        case .body(var chunk):
            if case .discarding(let remaining) = state {
                let left = remaining - chunk.readableBytes
                if left < 0 {
                    state = .rejecting
                    keepAlive = false
                    context.close(promise: nil)
                } else {
                    state = .discarding(remaining: left)
                }
                return
            }
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
            case .discarding:
                state = .idle
                if !queued.isEmpty { replayQueued(context) }
            default:
                break
            }
        }
    }

    /// The error to answer from the head alone, before any of the body is read: an unknown
    /// route, a method the route does not take, or a missing or wrong key.
    private func earlyAnswer(_ head: HTTPRequestHead, _ route: Route) -> OpenAIError? {
        if route == .notFound || ((route == .docs || route == .openAPI) && !gateway.observability.docs) {
            return .notFound("Route \(head.method) \(head.uri) does not exist. Routes: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /v1/model/info, /utils/token_counter, /health/liveliness, /health/readiness, /metrics.")
        }
        if head.method != route.method && !(head.method == .HEAD && route.method == .GET) {
            return .methodNotAllowed("Method \(head.method) is not allowed on \(head.uri); use \(route.method).",
                                     allowed: route.method == .GET ? "GET, HEAD" : "\(route.method)")
        }
        let open = route.isPublic || (route == .metrics && !gateway.observability.metricsRequireAuth)
        if !open, let key = gateway.masterKey, var failure = Auth.check(head.headers, masterKey: key) {
            if route == .metrics { failure.message = MetricsEndpoint.unauthorized(failure.message) }
            return failure
        }
        return nil
    }

    /// Answers `error` at once; the request's body (if any) is then dropped as it arrives.
    private func answerFromHead(_ context: ChannelHandlerContext, _ error: OpenAIError) {
        state = .discarding(remaining: gateway.maxBodyBytes)
        writeError(error, meta: nil)
    }

    private func reject(_ context: ChannelHandlerContext, _ error: OpenAIError) {
        state = .rejecting
        keepAlive = false
        writeError(error, meta: nil)
    }

    private func dispatch(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ route: Route, _ body: ByteBuffer) {
        if gateway.detailedDebug { DebugLog.request(gateway.logger, head, body) }
        switch route {
        case .liveliness:
            writeJSON(status: .ok, InfoEndpoints.liveliness(), meta: nil)
        case .readiness:
            let ready = gateway.isReady
            writeJSON(status: ready ? .ok : .serviceUnavailable, InfoEndpoints.readiness(ready: ready), meta: nil)
        case .listModels:
            writeJSON(status: .ok, InfoEndpoints.models(gateway), meta: nil)
        case .modelInfo:
            writeJSON(status: .ok, InfoEndpoints.modelInfo(gateway), meta: nil)
        case .metrics:
            writeAnswer(status: .ok, contentType: PrometheusText.contentType, MetricsEndpoint.body(gateway))
        case .openAPI:
            writeAnswer(status: .ok, contentType: "application/json", OpenAPIDocument.body)
        case .docs:
            writeAnswer(status: .ok, contentType: "text/html; charset=utf-8", DocsPage.body)
        case .tokenCounter:
            countTokens(body)
        case .modelCall(let endpoint, let pathModel):
            let call = Call(handler: self, endpoint: endpoint, pathModel: pathModel)
            self.call = call
            gateway.callStarted()
            call.start(body: body)
        case .notFound:
            break
        }
    }

    /// `/utils/token_counter`: parsed here, counted off the event loop (a tokenizer may have to
    /// be loaded first, and a long prompt takes a while), answered back on it.
    private func countTokens(_ body: ByteBuffer) {
        let request: TokenCounterEndpoint.Request
        do throws(OpenAIError) {
            request = try TokenCounterEndpoint.parse(body)
        } catch {
            writeError(error, meta: nil)
            return
        }
        let bound = NIOLoopBound(self, eventLoop: loop.pool.eventLoop)
        let gateway = self.gateway
        Task {
            let answer = await TokenCounterEndpoint.answer(request, gateway: gateway)
            bound.eventLoop.execute {
                switch answer {
                case .success(let out): bound.value.writeJSON(status: .ok, out, meta: nil)
                case .failure(let error): bound.value.writeError(error, meta: nil)
                }
            }
        }
    }

    // MARK: Answers (used by RelayCall too)

    /// Writes a complete JSON answer.
    func writeJSON(status: HTTPResponseStatus, _ body: ByteBuffer, meta: ResponseMetadata?, retryAfter: Int? = nil) {
        writeAnswer(status: status, contentType: "application/json", body, meta: meta, retryAfter: retryAfter)
    }

    /// Room for a response head with every `x-litellm-*` and rate-limit header: a head that
    /// outgrows its buffer costs two more allocations.
    static let headCapacity = 1024

    /// Bodies up to this size are copied behind their head and written with it: one write
    /// through the pipeline costs more than copying a few kilobytes.
    static let copiedBodyLimit = 8192

    /// Writes a complete answer of any content type.
    func writeAnswer(status: HTTPResponseStatus, contentType: String, _ body: ByteBuffer, meta: ResponseMetadata? = nil, retryAfter: Int? = nil, allow: String? = nil) {
        guard let context, let out = wire.context else { return }
        let sendBody = requestMethod != .HEAD
        let copyBody = sendBody && body.readableBytes <= Self.copiedBodyLimit
        var head = context.channel.allocator.buffer(capacity: Self.headCapacity + (copyBody ? body.readableBytes : 0))
        writeHead(&head, status: status, contentType: contentType, contentLength: body.readableBytes, meta: meta, retryAfter: retryAfter, allow: allow)
        if gateway.detailedDebug { DebugLog.response(gateway.logger, status, head, body) }
        if copyBody {
            head.writeImmutableBuffer(body)
            out.write(NIOAny(head), promise: nil)
        } else {
            out.write(NIOAny(head), promise: nil)
            if sendBody { out.write(NIOAny(body), promise: nil) }
        }
        finishResponse(context, out)
    }

    /// Writes an OpenAI-shaped error answer.
    func writeError(_ error: OpenAIError, meta: ResponseMetadata?) {
        guard let context else { return }
        var body = context.channel.allocator.buffer(capacity: 128 + error.message.utf8.count)
        error.writeBody(to: &body)
        if error.status >= 500 || error.status == 401 || error.status == 413 {
            gateway.logger.info("answered \(error.status): \(error.message)")
        }
        writeAnswer(status: HTTPResponseStatus(statusCode: error.status), contentType: "application/json", body, meta: meta,
                    retryAfter: error.retryAfter, allow: error.allow)
    }

    /// Starts a streamed answer (`text/event-stream`, chunked).
    func writeStreamHead(meta: ResponseMetadata) {
        guard let context, let out = wire.context else { return }
        chunked = requestVersion.minor >= 1
        if !chunked { keepAlive = false }
        var head = context.channel.allocator.buffer(capacity: Self.headCapacity)
        writeHead(&head, status: .ok, contentType: "text/event-stream", contentLength: nil, meta: meta, retryAfter: nil)
        out.write(NIOAny(head), promise: nil)
        loop.pool.flusher.flushSoon(out)
    }

    /// Writes one piece of a streamed answer (framed as a chunk), flushed at the end of this
    /// tick with the rest of the tick's pieces.
    func writeStreamChunk(_ buffer: ByteBuffer) {
        guard let out = wire.context, buffer.readableBytes > 0 else { return }
        defer { loop.pool.flusher.flushSoon(out) }
        guard chunked else {
            out.write(NIOAny(buffer), promise: nil)
            return
        }
        let size = buffer.readableBytes
        guard size <= Self.copiedBodyLimit else {
            var frame = out.channel.allocator.buffer(capacity: 12)
            Self.writeChunkSize(size, to: &frame)
            out.write(NIOAny(frame), promise: nil)
            out.write(NIOAny(buffer), promise: nil)
            out.write(NIOAny(Self.crlf), promise: nil)
            return
        }
        var chunk = out.channel.allocator.buffer(capacity: size + 12)
        Self.writeChunkSize(size, to: &chunk)
        chunk.writeImmutableBuffer(buffer)
        chunk.writeStaticString("\r\n")
        out.write(NIOAny(chunk), promise: nil)
    }

    /// A chunk's size line: hexadecimal digits and CRLF.
    static func writeChunkSize(_ size: Int, to out: inout ByteBuffer) {
        var shift = (Int.bitWidth - size.leadingZeroBitCount + 3) / 4 * 4 - 4
        if shift < 0 { shift = 0 }
        while shift >= 0 {
            let d = UInt8((size >> shift) & 15)
            out.writeInteger(d < 10 ? 48 + d : 87 + d)
            shift -= 4
        }
        out.writeStaticString("\r\n")
    }

    func writeStreamEnd() {
        guard let context, let out = wire.context else { return }
        if chunked { out.write(NIOAny(Self.lastChunk), promise: nil) }
        finishResponse(context, out)
    }

    private static let crlf = ByteBuffer(staticString: "\r\n")
    private static let lastChunk = ByteBuffer(staticString: "0\r\n\r\n")

    /// Status line and headers, ending with the blank line.
    private func writeHead(_ out: inout ByteBuffer, status: HTTPResponseStatus, contentType: String, contentLength: Int?, meta: ResponseMetadata?, retryAfter: Int?, allow: String? = nil) {
        out.writeStaticString("HTTP/1.1 ")
        out.writeString(String(status.code))
        out.writeStaticString(" ")
        out.writeString(status.reasonPhrase)
        out.writeStaticString("\r\ncontent-type: ")
        out.writeString(contentType)
        if let contentLength {
            out.writeStaticString("\r\ncontent-length: ")
            out.writeString(String(contentLength))
        } else if chunked {
            out.writeStaticString("\r\ntransfer-encoding: chunked\r\ncache-control: no-cache")
        } else {
            out.writeStaticString("\r\ncache-control: no-cache")
        }
        out.writeStaticString("\r\n")
        meta?.write(to: &out)
        if let retryAfter {
            out.writeStaticString("retry-after: ")
            out.writeString(String(retryAfter))
            out.writeStaticString("\r\n")
        }
        if let allow {
            out.writeStaticString("allow: ")
            out.writeString(allow)
            out.writeStaticString("\r\n")
        }
        if !keepAlive {
            out.writeStaticString("connection: close\r\n")
        } else if requestVersion.minor == 0 {
            out.writeStaticString("connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
    }

    /// Forgets the model call in progress, if any.
    private func endCall() {
        if call != nil {
            call = nil
            gateway.callEnded()
        }
    }

    private func finishResponse(_ context: ChannelHandlerContext, _ out: ChannelHandlerContext) {
        call?.complete()  // the record reaches the sinks (metrics) before the client sees the end
        endCall()
        lastActivity = NIODeadline.now().uptimeNanoseconds
        if case .rejecting = state {
            out.writeAndFlush(NIOAny(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        if case .discarding = state {
            // Answered from the head: the request's body is still to be dropped.
            if keepAlive { out.flush() } else { out.writeAndFlush(NIOAny(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
            return
        }
        state = .idle
        if keepAlive {
            loop.pool.flusher.flushSoon(out)
            if !queued.isEmpty { replayQueued(context) }
        } else {
            queued.removeAll()
            out.writeAndFlush(NIOAny(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
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
        endCall()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        call?.clientWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Malformed HTTP from the client: answer in OpenAI's shape (when no answer is under
        // way), then close, since the byte stream cannot be trusted any more.
        if error is HTTPParserError, call == nil, state.isIdleOrCollecting {
            keepAlive = false
            state = .rejecting
            writeError(.badRequest("Malformed HTTP request: \(error)."), meta: nil)
            return
        }
        gateway.logger.debug("client connection error: \(error)")
        context.close(promise: nil)
    }
}

extension HTTPGatewayHandler.State {
    var isIdleOrCollecting: Bool {
        switch self {
        case .idle, .collecting: return true
        case .answering, .rejecting, .discarding: return false
        }
    }
}
