import Crypto
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A non-blocking Redis client for NIO event loops: one pipelined connection per event loop
/// (made on first use), hiredis as the codec, a deadline on every call and a circuit breaker.
/// Calls made on an event loop use that loop's connection and complete on it; calls from any
/// other thread use a loop of `fallbackGroup`.
///
/// ```swift
/// let redis = RedisClient(configuration: RedisConfiguration(port: 6379), logger: logger)
/// redis.send(["INCR", "hits"]) { result in print(result) }
/// ```
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let connections = Mutex<[ObjectIdentifier: ConnectionBox]>([:])
    private let fallbackLoop: any EventLoop
    private let scripts = Mutex<[RedisScript]>([])

    /// - Parameter fallbackGroup: runs calls made off any event loop (tests, tools).
    public init(configuration: RedisConfiguration, logger: Logger, fallbackGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.configuration = configuration
        self.logger = logger
        tls = configuration.tls ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        fallbackLoop = fallbackGroup.next()
    }

    /// Sends one command (`["SET", "k", "v"]`); `completion` runs on the connection's event
    /// loop (the caller's when it is one) with the reply, an error reply included, or why
    /// there was none.
    public func send(_ args: [String], completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? fallbackLoop
        if loop.inEventLoop {
            connection(for: loop).send(args, completion: completion)
        } else {
            loop.execute { self.connection(for: loop).send(args, completion: completion) }
        }
    }

    /// Runs `script` by its SHA-1 (`EVALSHA`); when the server does not know it (`NOSCRIPT`:
    /// a restart, a flush), sends it whole with `EVAL`, which also caches it.
    public func evaluate(_ script: RedisScript, keys: [String], args: [String], completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void) {
        let tail = [String(keys.count)] + keys + args
        send(["EVALSHA", script.sha1] + tail) { [self] result in
            if case .success(.error(let message)) = result, message.hasPrefix("NOSCRIPT") {
                send(["EVAL", script.source] + tail, completion: completion)
                return
            }
            completion(result)
        }
    }

    /// Scripts loaded (`SCRIPT LOAD`) on every new connection before any other call, so that
    /// `EVALSHA` finds them and pipelined calls keep their order.
    public func preload(_ scripts: [RedisScript]) {
        self.scripts.withLock { $0 += scripts }
    }

    /// Whether a call made now on this thread's event loop would be sent rather than refused
    /// at once (reconnect backoff, open circuit breaker). `true` off an event loop.
    public var isAvailable: Bool {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return true }
        return connection(for: loop).isAvailable
    }

    /// Closes every connection.
    public func close() {
        for box in connections.withLock({ Array($0.values) }) {
            box.eventLoop.execute { box.connection.close() }
        }
    }

    private func connection(for loop: any EventLoop) -> RedisConnection {
        let key = ObjectIdentifier(loop)
        let box = connections.withLock { map in
            if let box = map[key] { return box }
            let box = ConnectionBox(RedisConnection(
                eventLoop: loop, configuration: configuration, tls: tls, logger: logger, preload: { [weak self] in self?.scripts.withLock { $0 } ?? [] }), eventLoop: loop)
            map[key] = box
            return box
        }
        return box.connection
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

/// A loop's connection, carried across threads but used only on its loop.
private struct ConnectionBox: @unchecked Sendable {
    private let value: RedisConnection
    let eventLoop: any EventLoop

    init(_ value: RedisConnection, eventLoop: any EventLoop) {
        self.value = value
        self.eventLoop = eventLoop
    }

    var connection: RedisConnection {
        eventLoop.preconditionInEventLoop()
        return value
    }
}
