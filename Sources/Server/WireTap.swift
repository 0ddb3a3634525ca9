import NIOCore

/// A handler that only lends its context: bytes written through it enter the pipeline at its
/// position, so they skip NIO's HTTP response encoder above it. The gateway encodes its own
/// client responses (one pass, one buffer) and writes them here.
final class WireTap: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private(set) var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }
}
