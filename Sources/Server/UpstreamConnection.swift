import NIOCore
import NIOHTTP1
import Providers

/// Receives one upstream response, part by part, on the event loop.
protocol UpstreamResponseDelegate: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ buffer: ByteBuffer)
    func upstreamEnd()
    /// The connection failed or closed before the response ended.
    /// `beforeResponse` is true when no byte of the response had arrived.
    func upstreamFailed(_ error: any Error, beforeResponse: Bool)
}

/// One keep-alive HTTP/1.1 connection to an upstream; the last handler of its pipeline.
/// Forwards the response of the request in flight to its delegate, then returns itself to
/// the pool when the connection can be reused.
///
/// Requests are encoded here in one buffer and written below the response decoder (through
/// ``WireTap``), skipping NIO's request encoder: one pass over the headers, one write.
/// The decoder is told of each request head so it can pair responses with requests.
final class UpstreamConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let target: UpstreamTarget
    weak var pool: UpstreamPool?
    let decoder: HTTPResponseDecoder
    let wire = WireTap()
    private(set) var channel: Channel?
    private var delegate: (any UpstreamResponseDelegate)?
    private var receivedResponseBytes = false
    private var reusable = true
    /// How many requests this connection has carried (more than one: it came from the pool).
    private(set) var requestCount = 0

    init(target: UpstreamTarget, pool: UpstreamPool, decoder: HTTPResponseDecoder) {
        self.target = target
        self.pool = pool
        self.decoder = decoder
    }

    /// The head the decoder is told about for every POST (shared: no allocation per request).
    private static let postHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    var isUsable: Bool { channel?.isActive ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
    }

    /// Sends `request`; the response goes to `delegate`.
    func send(_ request: UpstreamRequest, to delegate: any UpstreamResponseDelegate) {
        guard let channel, let context = wire.context else { return }
        self.delegate = delegate
        receivedResponseBytes = false
        reusable = true
        requestCount += 1
        decoder.write(data: .head(request.method == .POST ? Self.postHead : HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri)))
        var head = channel.allocator.buffer(capacity: 256 + request.uri.utf8.count)
        head.writeString(request.method.rawValue)
        head.writeStaticString(" ")
        head.writeString(request.uri)
        head.writeStaticString(" HTTP/1.1\r\n")
        for (name, value) in request.headers {
            head.writeString(name)
            head.writeStaticString(": ")
            head.writeString(value)
            head.writeStaticString("\r\n")
        }
        head.writeStaticString("Content-Length: ")
        head.writeString(String(request.body.readableBytes))
        head.writeStaticString("\r\n\r\n")
        context.write(NIOAny(head), promise: nil)
        context.writeAndFlush(NIOAny(request.body), promise: nil)
    }

    /// Abandons the request in flight: the connection is closed, never reused.
    func cancel() {
        delegate = nil
        reusable = false
        channel?.close(promise: nil)
    }

    /// Stops or resumes reading from the upstream (backpressure from a slow client).
    func setReading(_ on: Bool) {
        channel?.setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
        if on { channel?.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        receivedResponseBytes = true
        guard let delegate else { return }
        switch part {
        case .head(let head):
            if !head.isKeepAlive { reusable = false }
            delegate.upstreamHead(head)
        case .body(let buffer):
            delegate.upstreamBody(buffer)
        case .end:
            self.delegate = nil
            if reusable && context.channel.isActive {
                if let pool { pool.release(self) } else { context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
            delegate.upstreamEnd()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.forget(self)
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(UpstreamClosed(), beforeResponse: !receivedResponseBytes)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reusable = false
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(error, beforeResponse: !receivedResponseBytes)
        }
        context.close(promise: nil)
    }
}

/// The upstream closed the connection before its response ended.
struct UpstreamClosed: Error, CustomStringConvertible {
    var description: String { "the upstream closed the connection" }
}

