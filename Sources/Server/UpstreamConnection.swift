import CallModel
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Providers

/// Receives one upstream response, part by part, on the event loop.
protocol UpstreamResponseDelegate: AnyObject {
    func upstreamHead(_ head: UpstreamHead)
    func upstreamBody(_ buffer: ByteBuffer)
    func upstreamEnd()
    /// The connection failed or closed before the response ended.
    /// `beforeResponse` is true when no byte of the response had arrived.
    func upstreamFailed(_ failure: ConnectionFailure, beforeResponse: Bool)
    /// The response could not be parsed.
    func upstreamMalformed(_ reason: String)
}

/// One keep-alive HTTP/1.1 connection to an upstream (the only handler above TLS, if any).
/// Encodes each request into one buffer, parses the response with ``UpstreamResponseParser``
/// and forwards it to its delegate, then returns itself to the pool when the connection can
/// be reused.
final class UpstreamConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let target: UpstreamTarget
    weak var pool: UpstreamPool?
    private var context: ChannelHandlerContext?
    private var parser = UpstreamResponseParser()
    private var delegate: (any UpstreamResponseDelegate)?
    private var receivedResponseBytes = false
    private var reusable = true
    /// Reading was turned off for a slow client (see ``setReading(_:)``).
    private(set) var readingPaused = false
    /// How many requests this connection has carried (more than one: it came from the pool).
    private(set) var requestCount = 0

    init(target: UpstreamTarget, pool: UpstreamPool) {
        self.target = target
        self.pool = pool
    }

    var isUsable: Bool { context?.channel.isActive ?? false }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Sends `request`; the response goes to `delegate`.
    func send(_ request: UpstreamRequest, to delegate: any UpstreamResponseDelegate) {
        guard let context else { return }
        self.delegate = delegate
        receivedResponseBytes = false
        reusable = true
        parser.reset()
        requestCount += 1
        let copyBody = request.body.readableBytes <= HTTPGatewayHandler.copiedBodyLimit
        var head = context.channel.allocator.buffer(capacity: 256 + request.uri.utf8.count + (copyBody ? request.body.readableBytes : 0))
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
        if copyBody {
            head.writeImmutableBuffer(request.body)
            context.write(wrapOutboundOut(head), promise: nil)
        } else {
            context.write(wrapOutboundOut(head), promise: nil)
            context.write(wrapOutboundOut(request.body), promise: nil)
        }
        if let pool { pool.flusher.flushSoon(context) } else { context.flush() }
    }

    /// Abandons the request in flight: the connection is closed, never reused.
    func cancel() {
        delegate = nil
        reusable = false
        context?.close(promise: nil)
    }

    /// Stops or resumes reading from the upstream (backpressure from a slow client).
    func setReading(_ on: Bool) {
        guard let channel = context?.channel, readingPaused == on else { return }
        readingPaused = !on
        channel.setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
        if on { channel.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        receivedResponseBytes = true
        guard delegate != nil else {
            // Bytes nobody asked for: the connection cannot be trusted for another request.
            reusable = false
            context.close(promise: nil)
            return
        }
        var input = bytes
        while true {
            let event: UpstreamResponseParser.Event?
            do throws(UpstreamResponseParser.ParseError) {
                event = try parser.next(&input)
            } catch {
                reusable = false
                if let delegate {
                    self.delegate = nil
                    delegate.upstreamMalformed(error.description)
                }
                context.close(promise: nil)
                return
            }
            guard let event else { return }
            if case .end = event {
                // Anything after the response is a protocol error: never reuse the connection.
                if input.readableBytes > 0 { reusable = false }
                deliver(event, context)
                return
            }
            deliver(event, context)
        }
    }

    private func deliver(_ event: UpstreamResponseParser.Event, _ context: ChannelHandlerContext) {
        guard let delegate else { return }
        switch event {
        case .head(let head):
            if !head.keepAlive { reusable = false }
            delegate.upstreamHead(head)
        case .body(let buffer):
            delegate.upstreamBody(buffer)
        case .end:
            self.delegate = nil
            if reusable && context.channel.isActive, let pool {
                // A response may end in the same read in which a slow client paused reading:
                // the connection goes back to the pool reading again.
                setReading(true)
                pool.release(self)
            } else {
                context.close(promise: nil)
            }
            delegate.upstreamEnd()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.forget(self)
        if delegate != nil {
            let (event, completed) = parser.connectionClosed()
            if let event { deliver(event, context) }
            if !completed, let delegate {
                self.delegate = nil
                delegate.upstreamFailed(
                    ConnectionFailure(.closed, "the upstream closed the connection"), beforeResponse: !receivedResponseBytes)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reusable = false
        if let delegate {
            self.delegate = nil
            delegate.upstreamFailed(ConnectionFailure(classifying: error), beforeResponse: !receivedResponseBytes)
        }
        context.close(promise: nil)
    }
}

extension ConnectionFailure {
    /// Classifies an error from a socket, a connect attempt or TLS.
    init(classifying error: any Error) {
        let text = "\(error)"
        if error is NIOSSLError || error is BoringSSLError {
            self.init(.tls, text)
            return
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: self.init(.refused, text)
            case ECONNRESET, EPIPE: self.init(.reset, text)
            case ETIMEDOUT: self.init(.timeout, text)
            default: self.init(.other, text)
            }
            return
        }
        if let connect = error as? NIOConnectionError {
            let errors = connect.connectionErrors.map(\.error)
            if errors.contains(where: { ($0 as? IOError)?.errnoCode == ECONNREFUSED }) {
                self.init(.refused, text)
            } else if connect.dnsAAAAError != nil || connect.dnsAError != nil, errors.isEmpty {
                self.init(.resolve, text)
            } else {
                self.init(.other, text)
            }
            return
        }
        if error is ChannelError, case .connectTimeout = error as! ChannelError {
            self.init(.timeout, text)
            return
        }
        self.init(.other, text)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
