import CallModel
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    private let inherited = Mutex<InheritedListener?>(nil)

    /// - Parameter sinks: makes the extra ``CallRecordSink``s of one event loop (called once
    ///   per loop); the loop's deployment stats table is always the first sink.
    public init(
        gateway: GatewayContext, group: any EventLoopGroup,
        sinks makeSinks: (any EventLoop) -> [any CallRecordSink] = { _ in [] }
    ) {
        self.gateway = gateway
        self.group = group
        let needsTLS = gateway.deployments.values.contains { prepared in
            guard let plan = prepared.plan else { return true }  // a wildcard: its upstream is not known yet
            return (try? plan.get())?.target.tls ?? false
        }
        let tls = ClientTLS(logger: gateway.logger, loadNow: needsTLS)
        var loops: [ObjectIdentifier: LoopStateBox] = [:]
        for loop in group.makeIterator() {
            var sinks = [MetricsSink(slot: gateway.metricsSlot, deployments: gateway.metricLabels) as any CallRecordSink]
            if gateway.observability.jsonLogs { sinks.append(JSONCallLog()) }
            sinks += makeSinks(loop) + (gateway.detailedDebug ? [DebugRecordLog(logger: gateway.logger)] : [])
            let loopState = LoopState(
                pool: UpstreamPool(eventLoop: loop, tls: tls), deployments: gateway.deployments.count, extraSinks: sinks)
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
        let gauges = gateway.metricsGauges
        let publish = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            gauges.publish(inFlightCalls: gateway.inFlight)
        }
        sweeps.withLock { $0 = tasks + [publish] }
    }

    /// Binds and starts serving. Returns the bound port (useful with port 0).
    @discardableResult
    public func start(host: String, port: Int) async throws -> Int {
        let channel = try await bootstrap().bind(host: host, port: port).get()
        channelBox.withLock { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// Serves a listening socket this process inherited (from the supervisor, which bound it once
    /// for every worker), accepting on an ``InheritedListener`` thread. ``stop()`` then closes only
    /// this process's descriptor: connections waiting in the shared accept queue stay queued for
    /// the other workers instead of being reset.
    public func start(inheritedListener descriptor: Int32) async throws {
        let listener = try InheritedListener(descriptor: descriptor, closed: group.next().makePromise())
        inherited.withLock { $0 = listener }
        let group = self.group
        let initializer = connectionInitializer()
        let bootstrap = AcceptThreadOnly(ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer(initializer))
        let logger = gateway.logger
        listener.start { fd in
            bootstrap.value.withConnectedSocket(fd).whenFailure { error in
                logger.warning("cannot serve an accepted connection: \(error)")
                _ = close(fd)
            }
        }
    }

    private func bootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer(connectionInitializer())
    }

    /// The pipeline of one client connection.
    private func connectionInitializer() -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        let gateway = self.gateway
        let loops = self.loops
        return { channel in
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
                // pipelined ones itself. NIO's response encoder is left out on purpose: its
                // decoder records every request's method for it, and since no response passes
                // through it, that queue grew by one entry per request for the connection's life.
                try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                let wire = WireTap()
                try sync.addHandler(wire, position: .first)
                try sync.addHandler(HTTPGatewayHandler(gateway: gateway, loop: state.value, wire: wire))
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
    }

    /// Stops accepting connections and closes the listening socket.
    public func stop() async throws {
        let channel = channelBox.withLock { $0 }
        try await channel?.close()
        if let listener = inherited.withLock({ $0 }) {
            listener.stop()
            try await listener.closed.futureResult.get()
        }
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

    /// Client connections open right now.
    public var openConnections: Int { gateway.openClientConnections }

    /// After a drain: waits until clients have closed their connections (each answer while
    /// draining says `connection: close`), or `grace` has passed. Returns the connections still
    /// open; exiting closes them.
    public func waitForOpenConnections(grace: Duration) async -> Int {
        let deadline = ContinuousClock.now + grace
        while gateway.openClientConnections > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return gateway.openClientConnections
    }

    /// Waits until the listening socket is closed.
    public func waitUntilClosed() async throws {
        let channel = channelBox.withLock { $0 }
        try await channel?.closeFuture.get()
        try await inherited.withLock({ $0 })?.closed.futureResult.get()
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

/// A bootstrap used only on the accept thread (never concurrently), so it may cross into the
/// `@Sendable` accept callback.
private struct AcceptThreadOnly<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
