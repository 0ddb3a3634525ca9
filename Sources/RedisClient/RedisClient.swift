import Crypto
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A non-blocking Redis client for NIO event loops: one pipelined connection per server (per
/// cluster node) per event loop, made on first use; hiredis as the codec; a deadline on every
/// call and a circuit breaker per connection. Calls made on an event loop use that loop's
/// connections and complete on it; calls from any other thread use a loop of `fallbackGroup`.
///
/// With ``RedisConfiguration/clusterNodes`` it is a Redis Cluster client: it reads the slot map
/// (`CLUSTER SLOTS`) from the startup nodes, sends each call to the master of its slot,
/// follows `MOVED` (and refreshes the map) and `ASK` (`ASKING`, then the call) redirections,
/// and retries `TRYAGAIN` (a slot half-migrated) until the call's deadline.
///
/// ```swift
/// let redis = RedisClient(configuration: RedisConfiguration(port: 6379), logger: logger)
/// redis.send(["INCR", "hits"]) { result in print(result) }
/// ```
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let loops = Mutex<[ObjectIdentifier: LoopBox]>([:])
    /// The loop that runs calls made off any event loop.
    public let fallbackLoop: any EventLoop
    private let scripts = Mutex<[RedisScript]>([])
    private let problems = RedisProblemLog()
    /// The cluster's slot map (`nil`: one server).
    let topology: RedisClusterTopology?
    let counters = RedisClusterCounters()
    /// Consecutive `MOVED` replies one call follows before giving up (a map in flux).
    static let maximumMoves = 5

    /// - Parameter fallbackGroup: runs calls made off any event loop (tests, tools) and the
    ///   cluster's slot-map refreshes.
    /// - Throws: when the TLS certificate or key files cannot be read.
    public init(configuration: RedisConfiguration, logger: Logger, fallbackGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.configuration = configuration
        self.logger = logger
        tls = try configuration.makeTLSContext()
        fallbackLoop = fallbackGroup.next()
        topology = configuration.clusterNodes.isEmpty ? nil : RedisClusterTopology(seeds: configuration.clusterNodes)
        refreshSlots(force: true)
    }

    /// Whether this client talks to a Redis Cluster (calls must not mix slots).
    public var isCluster: Bool { topology != nil }

    /// Redirections followed so far (cluster only): `MOVED`, `ASK`, `TRYAGAIN`.
    public var redirections: (moved: Int, ask: Int, tryAgain: Int) { counters.snapshot }

    /// Sends one command (`["SET", "k", "v"]`); `completion` runs on the connection's event
    /// loop (the caller's when it is one) with the reply, an error reply included, or why
    /// there was none. In a cluster the command goes to the master of `slot`
    /// (``RedisClusterSlot/of(key:)`` of its key); without a slot, to any master.
    public func send(_ args: [String], slot: Int? = nil, completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? fallbackLoop
        if loop.inEventLoop {
            route(args, slot: slot, on: loop, completion: completion)
        } else {
            loop.execute { self.route(args, slot: slot, on: loop, completion: completion) }
        }
    }

    /// Sends a command about `key`: to the master of its slot in a cluster.
    public func send(_ args: [String], key: String, completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) {
        send(args, slot: topology == nil ? nil : RedisClusterSlot.of(key: key), completion: completion)
    }

    /// Runs `script` by its SHA-1 (`EVALSHA`); when the server (in a cluster: the slot's
    /// master) does not know it (`NOSCRIPT`: a restart, a flush, a new node), sends it whole
    /// with `EVAL`, which also caches it there. In a cluster all `keys` must share one slot
    /// (give it as `slot` when known; else it is computed and checked, and keys of several
    /// slots fail with ``RedisError/crossSlot`` without being sent).
    public func evaluate(_ script: RedisScript, keys: [String], args: [String], slot: Int? = nil, completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) {
        var target = slot
        if topology != nil, target == nil, let first = keys.first {
            let s = RedisClusterSlot.of(key: first)
            guard keys.allSatisfy({ RedisClusterSlot.of(key: $0) == s }) else {
                completion(.failure(.crossSlot(keys)))
                return
            }
            target = s
        }
        let slot = target
        var command: [String] = []
        command.reserveCapacity(3 + keys.count + args.count)
        command.append("EVALSHA")
        command.append(script.sha1)
        command.append(String(keys.count))
        command += keys
        command += args
        send(command, slot: slot) { [self, command] result in
            if case .success(.error(let message)) = result, message.hasPrefix("NOSCRIPT") {
                var eval = command
                eval[0] = "EVAL"
                eval[1] = script.source
                send(eval, slot: slot, completion: completion)
                return
            }
            completion(result)
        }
    }

    /// Scripts loaded (`SCRIPT LOAD`) on every new connection (to every node) before any other
    /// call, so that `EVALSHA` finds them and pipelined calls keep their order.
    public func preload(_ scripts: [RedisScript]) {
        self.scripts.withLock { $0 += scripts }
    }

    /// Whether a call made now on this thread's event loop (for `slot`, in a cluster) would be
    /// sent rather than refused at once (reconnect backoff, open circuit breaker). `true` off
    /// an event loop.
    public func isAvailable(slot: Int? = nil) -> Bool {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return true }
        let connections = connections(on: loop)
        guard let topology else { return connections.single.isAvailable }
        return connections.connection(to: RedisClusterTopology.node(for: slot, in: connections.currentMap(topology), seeds: topology.seeds)).isAvailable
    }

    /// ``isAvailable(slot:)`` for a single server (any master of a cluster).
    public var isAvailable: Bool { isAvailable(slot: nil) }

    /// Closes every connection.
    public func close() {
        for box in loops.withLock({ Array($0.values) }) {
            box.eventLoop.execute { box.connections.closeAll() }
        }
    }

    // MARK: Routing

    private func route(_ args: [String], slot: Int?, on loop: any EventLoop, completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) {
        let connections = connections(on: loop)
        guard let topology else {
            connections.single.send(args, completion: completion)
            return
        }
        clusterSend(args, slot: slot, on: connections, topology: topology, deadline: .now() + configuration.callTimeout, moves: 0, asking: nil, completion: completion)
    }

    func connections(on loop: any EventLoop) -> RedisLoopConnections {
        let key = ObjectIdentifier(loop)
        let box = loops.withLock { map in
            if let box = map[key] { return box }
            let box = LoopBox(RedisLoopConnections(eventLoop: loop, makeConnection: { [weak self] node in
                guard let self else { preconditionFailure("the Redis client is gone") }
                return RedisConnection(
                    eventLoop: loop, configuration: node.map { self.configuration.node($0) } ?? self.configuration, tls: self.tls,
                    logger: self.logger, problems: self.problems, preload: { [weak self] in self?.scripts.withLock { $0 } ?? [] })
            }), eventLoop: loop)
            map[key] = box
            return box
        }
        return box.connections
    }
}

/// A Lua script and its SHA-1, for `EVALSHA`.
public struct RedisScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        let hex = Array("0123456789abcdef".utf8)
        sha1 = String(decoding: Insecure.SHA1.hash(data: Array(source.utf8)).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}

/// Counts of the cluster redirections a client followed.
final class RedisClusterCounters: Sendable {
    let moved = Atomic<Int>(0)
    let ask = Atomic<Int>(0)
    let tryAgain = Atomic<Int>(0)

    var snapshot: (moved: Int, ask: Int, tryAgain: Int) {
        (moved.load(ordering: .relaxed), ask.load(ordering: .relaxed), tryAgain.load(ordering: .relaxed))
    }
}

/// A loop's connections, carried across threads but used only on its loop.
private struct LoopBox: @unchecked Sendable {
    private let value: RedisLoopConnections
    let eventLoop: any EventLoop

    init(_ value: RedisLoopConnections, eventLoop: any EventLoop) {
        self.value = value
        self.eventLoop = eventLoop
    }

    var connections: RedisLoopConnections {
        eventLoop.preconditionInEventLoop()
        return value
    }
}
