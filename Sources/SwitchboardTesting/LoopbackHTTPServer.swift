import NIOCore
import NIOHTTP1
import NIOPosix

/// The listening side every fake upstream shares: an HTTP/1.1 server pipeline on a free
/// 127.0.0.1 port, with one handler per connection made by `makeHandler`.
enum LoopbackHTTPServer {
    static func bind(
        group: any EventLoopGroup, makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }
}
