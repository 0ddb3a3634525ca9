import NIOCore

/// One command waiting for its reply. Completed exactly once: by the reply, the deadline or
/// the connection's end, whichever comes first.
final class RedisPendingCall {
    private var completion: ((Result<RedisValue, RedisError>) -> Void)?
    /// When it fails with a timeout (kept by the connection's ``RedisCallDeadlines``).
    var deadline = NIODeadline.distantFuture

    init(_ completion: @escaping (Result<RedisValue, RedisError>) -> Void) {
        self.completion = completion
    }

    var isDone: Bool { completion == nil }

    /// Completes the call; later results are dropped.
    func finish(_ result: Result<RedisValue, RedisError>) {
        guard let c = completion else { return }
        completion = nil
        c(result)
    }
}

/// The Redis connection's channel handler: writes formatted commands (pipelined, one flush per
/// event-loop tick) and matches replies to calls in order, through hiredis's reader.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reader = RESPReader()
    private var pending = CircularBuffer<RedisPendingCall>()
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    /// Told once when the channel closes: the error that closed it (if any), and whether any
    /// reply came before.
    private let closed: ((any Error)?, Bool) -> Void
    private var closingError: (any Error)?
    private var answered = false

    init(closed: @escaping ((any Error)?, Bool) -> Void) {
        self.closed = closed
    }

    var isActive: Bool { context?.channel.isActive ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Sends `command`; `call` completes with its reply.
    func send(_ command: ByteBuffer, _ call: RedisPendingCall) {
        guard let context, context.channel.isActive else {
            call.finish(.failure(.connectionClosed))
            return
        }
        pending.append(call)
        context.write(wrapOutboundOut(command), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            self.context?.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do throws(RedisError) {
            try reader.feed(unwrapInboundIn(data))
            while let value = try reader.next() {
                guard let call = pending.popFirst() else {
                    throw .protocolError("a reply without a command")
                }
                answered = true
                call.finish(.success(value))
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        closed(closingError, answered)  // first: the connection logs why before its callers hear
        failAll(closingError.map { answered ? .connectionClosed : .unavailable("\($0)") } ?? .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closingError == nil { closingError = error }
        context.close(promise: nil)
    }

    func close() {
        context?.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        while let call = pending.popFirst() { call.finish(.failure(error)) }
    }
}
