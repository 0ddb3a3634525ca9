import CallModel
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A worker's HTTP server: binds the port and serves the gateway's routes on every event loop.
///
/// ```swift
/// let server = GatewayServer(gateway: gateway, group: MultiThreadedEventLoopGroup.singleton)
/// try await server.start(host: "0.0.0.0", port: 4000)
/// try await server.waitUntilClosed()
/// ```
public final class GatewayServer: Sendable {
    public let gateway: GatewayContext
    let group: any EventLoopGroup
    private let loops: [ObjectIdentifier: LoopStateBox]
    private let channelBox = Mutex<(any Channel)?>(nil)
    private let sweeps = Mutex<[RepeatedTask]>([])

    /// - Parameter sinks: makes the extra ``CallRecordSink``s of one event loop (called once
    ///   per loop); the loop's deployment stats table is always the first sink.
    public init(
        gateway: GatewayContext, group: any EventLoopGroup,
        sinks makeSinks: (any EventLoop) -> [any CallRecordSink] = { _ in [] }
    ) {
        self.gateway = gateway
        self.group = group
        let tls: NIOSSLContext?
        do {
            tls = try NIOSSLContext(configuration: .makeClientConfiguration())
        } catch {
            gateway.logger.warning("TLS client context unavailable, https upstreams will fail: \(error)")
            tls = nil
        }
        var loops: [ObjectIdentifier: LoopStateBox] = [:]
        for loop in group.makeIterator() {
            let sinks = makeSinks(loop) + (gateway.detailedDebug ? [DebugRecordLog(logger: gateway.logger)] : [])
            let loopState = LoopState(
                pool: UpstreamPool(eventLoop: loop, tlsContext: tls), deployments: gateway.deployments.count, extraSinks: sinks)
            let state = LoopStateBox(loopState, eventLoop: loop)
            loops[ObjectIdentifier(loop)] = state
        }
        self.loops = loops
        let limit = UInt64(gateway.idleTimeout * 1e9)
        let every = TimeAmount.nanoseconds(Int64(max(0.05, min(gateway.idleTimeout / 4, 5)) * 1e9))
        let tasks = loops.values.map { box in
            box.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
                box.value.sweepIdleConnections(limit: limit)
            }
        }
        sweeps.withLock { $0 = tasks }
    }

    /// Binds and starts serving. Returns the bound port (useful with port 0).
    @discardableResult
    public func start(host: String, port: Int) async throws -> Int {
        let gateway = self.gateway
        let loops = self.loops
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                guard let state = loops[ObjectIdentifier(channel.eventLoop)] else {
                    return channel.eventLoop.makeFailedFuture(UnknownEventLoop())
                }
                do {
                    let sync = channel.pipeline.syncOperations
                    guard gateway.connectionOpened() else {
                        try sync.addHandler(RefuseConnection())
                        return channel.eventLoop.makeSucceededVoidFuture()
                    }
                    // Only NIO's request decoder: responses are encoded by the gateway (see
                    // WireTap), and HTTPGatewayHandler answers malformed requests and queues
                    // pipelined ones itself. NIO's response encoder is left out on purpose:
                    // its decoder records every request's method for it, and since no response
                    // passes through it, that queue grew by one entry per request for the
                    // connection's life (issue 5, defect 9).
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    let wire = WireTap()
                    try sync.addHandler(wire, position: .first)
                    try sync.addHandler(HTTPGatewayHandler(gateway: gateway, loop: state.value, wire: wire))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: host, port: port)
            .get()
        channelBox.withLock { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// Stops accepting connections and closes the listening socket.
    public func stop() async throws {
        let channel = channelBox.withLock { $0 }
        try await channel?.close()
        sweeps.withLock { tasks in
            for task in tasks { task.cancel() }
            tasks = []
        }
    }

    /// Waits until no model call is in flight, or `grace` has passed. Returns the calls still
    /// running when it gave up.
    public func waitForInFlightCalls(grace: Duration) async -> Int {
        let deadline = ContinuousClock.now + grace
        while gateway.inFlight > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return gateway.inFlight
    }

    /// Waits until the listening socket is closed.
    public func waitUntilClosed() async throws {
        let channel = channelBox.withLock { $0 }
        try await channel?.closeFuture.get()
    }
}

struct UnknownEventLoop: Error {}

/// Answers a connection over the cap with a 503 and closes it.
final class RefuseConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let answer: StaticString = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 142\r\nretry-after: 1\r\nconnection: close\r\n\r\n{\"error\":{\"message\":\"The gateway has too many open connections; retry shortly.\",\"type\":\"service_unavailable_error\",\"param\":null,\"code\":\"503\"}}"

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(staticString: Self.answer))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
