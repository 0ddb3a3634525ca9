import NIOCore

/// One event loop's Redis connections: the server's, or one per cluster node (made on first
/// use), and this loop's copy of the cluster's slot map (taken again when its generation
/// changes). Touched only on its loop, so it needs no locks.
final class RedisLoopConnections {
    let eventLoop: any EventLoop
    /// Makes the connection to a node (`nil`: the configured single server).
    private let makeConnection: (RedisNodeAddress?) -> RedisConnection
    private var nodes: [RedisNodeAddress: RedisConnection] = [:]
    private var map = RedisSlotMap()
    private var mapGeneration = -1

    init(eventLoop: any EventLoop, makeConnection: @escaping (RedisNodeAddress?) -> RedisConnection) {
        self.eventLoop = eventLoop
        self.makeConnection = makeConnection
    }

    private var singleConnection: RedisConnection?

    /// The connection to the single server.
    var single: RedisConnection {
        if let c = singleConnection { return c }
        let c = makeConnection(nil)
        singleConnection = c
        return c
    }

    /// The connection to a cluster node.
    func connection(to node: RedisNodeAddress) -> RedisConnection {
        if let c = nodes[node] { return c }
        let c = makeConnection(node)
        nodes[node] = c
        return c
    }

    /// The cluster's slot map as of now.
    func currentMap(_ topology: RedisClusterTopology) -> RedisSlotMap {
        let generation = topology.generation
        if generation != mapGeneration {
            map = topology.map
            mapGeneration = generation
        }
        return map
    }

    func closeAll() {
        singleConnection?.close()
        for c in nodes.values { c.close() }
    }
}
