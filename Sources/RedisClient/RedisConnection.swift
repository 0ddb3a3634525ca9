import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The Redis connection of one event loop: every call made on that loop is pipelined on it.
/// Connects on first use, authenticates and selects the database before anything else, and
/// after a failure reconnects with a backoff (50 ms doubling to 2 s). A circuit breaker fails
/// calls at once after `breakerThreshold` consecutive failures, for `breakerOpenTime`. Touched
/// only on its loop, so it needs no locks.
final class RedisConnection {
    enum State {
        case idle
        case connecting([(ByteBuffer, RedisPendingCall)])
        case ready(RedisChannelHandler)
        /// Down; the next call after `until` tries again.
        case backoff(until: NIODeadline)
    }

    let eventLoop: any EventLoop
    let configuration: RedisConfiguration
    let tls: NIOSSLContext?
    let logger: Logger
    /// Connection problems logged once per client until a call succeeds again.
    let problems: RedisProblemLog
    /// The scripts to `SCRIPT LOAD` after connecting.
    let preload: () -> [RedisScript]
    private(set) var state = State.idle
    /// The deadlines of this connection's calls.
    private let deadlines: RedisCallDeadlines
    private var backoff = TimeAmount.milliseconds(50)
    private var consecutiveFailures = 0
    private var breakerOpenUntil = NIODeadline.uptimeNanoseconds(0)
    /// AUTH or SELECT was refused: reconnect only after the backoff.
    private var handshakeFailed = false
    /// A connection was refused (AUTH, TLS) and no call has succeeded since: a new connection
    /// does not reset the backoff, so it keeps growing (to 2 s) while the refusals go on.
    private var refusedSinceLastReply = false

    init(
        eventLoop: any EventLoop, configuration: RedisConfiguration, tls: NIOSSLContext?, logger: Logger,
        problems: RedisProblemLog = RedisProblemLog(), preload: @escaping () -> [RedisScript] = { [] }
    ) {
        self.preload = preload
        self.problems = problems
        self.eventLoop = eventLoop
        deadlines = RedisCallDeadlines(eventLoop: eventLoop)
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
    }

    /// Whether a call now would be sent (not refused at once: backoff or open breaker).
    var isAvailable: Bool {
        let now = NIODeadline.now()
        if now < breakerOpenUntil { return false }
        if case .backoff(let until) = state, now < until { return false }
        return true
    }

    /// Sends one command; `completion` runs on this loop, by `deadline` (default: the
    /// configured call timeout from now).
    func send(_ args: [String], deadline: NIODeadline? = nil, completion: @escaping (Result<RedisValue, RedisError>) -> Void) {
        let now = NIODeadline.now()
        if now < breakerOpenUntil {
            completion(.failure(.unavailable("circuit breaker open")))
            return
        }
        if let deadline, deadline <= now {
            completion(.failure(.timeout))
            return
        }
        let call = RedisPendingCall { [self] result in
            switch result {
            case .success:
                if consecutiveFailures > 0 || refusedSinceLastReply || problems.hasProblem {
                    problems.solved(node: configuration.description)
                    refusedSinceLastReply = false
                }
                consecutiveFailures = 0
            case .failure: recordFailure()
            }
            completion(result)
        }
        deadlines.arm(call, at: deadline ?? now + configuration.callTimeout)
        var buffer = ByteBuffer()
        RESPCommand.write(args, to: &buffer)
        enqueue(buffer, call, now: now)
    }

    private func enqueue(_ buffer: ByteBuffer, _ call: RedisPendingCall, now: NIODeadline) {
        switch state {
        case .ready(let handler):
            handler.send(buffer, call)
        case .connecting(var queue):
            queue.append((buffer, call))
            state = .connecting(queue)
        case .idle:
            state = .connecting([(buffer, call)])
            connect()
        case .backoff(let until):
            guard now >= until else {
                call.finish(.failure(.unavailable("reconnecting")))
                return
            }
            state = .connecting([(buffer, call)])
            connect()
        }
    }

    private func recordFailure() {
        consecutiveFailures += 1
        if consecutiveFailures >= configuration.breakerThreshold {
            breakerOpenUntil = NIODeadline.now() + configuration.breakerOpenTime
            consecutiveFailures = configuration.breakerThreshold - 1  // one probe after it reopens
        }
    }

    private func connect() {
        let serverName = configuration.tls && !configuration.host.contains(":") && !configuration.host.allSatisfy({ $0.isNumber || $0 == "." })
            ? configuration.host : nil
        let tls = self.tls
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                do {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    let handler = RedisChannelHandler { [weak self] error, answered in self?.connectionClosed(error: error, answered: answered) }
                    do {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    } catch {
                        channel.close(promise: nil)
                        connectFailed(error)
                        return
                    }
                    connected(handler)
                case .failure(let error):
                    connectFailed(error)
                }
            }
    }

    private func connected(_ handler: RedisChannelHandler) {
        guard case .connecting(let queue) = state else {
            handler.close()
            return
        }
        if !refusedSinceLastReply { backoff = .milliseconds(50) }
        state = .ready(handler)
        logger.debug("connected to Redis at \(configuration)")
        // Pipelined ahead of the queued calls: the server answers them first.
        if let password = configuration.password {
            let auth = configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            handshake(auth, "AUTH", handler)
        }
        if configuration.database != 0 {
            handshake(["SELECT", String(configuration.database)], "SELECT", handler)
        }
        for script in preload() { handshake(["SCRIPT", "LOAD", script.source], "SCRIPT LOAD", handler, fatal: false) }
        for (buffer, call) in queue { handler.send(buffer, call) }
    }

    /// A command pipelined ahead of the queued calls; a `fatal` one refused closes the connection.
    private func handshake(_ args: [String], _ name: String, _ handler: RedisChannelHandler, fatal: Bool = true) {
        var buffer = ByteBuffer()
        RESPCommand.write(args, to: &buffer)
        handler.send(buffer, RedisPendingCall { [self] result in
            guard case .success(.error(let message)) = result else { return }
            logger.error("Redis at \(configuration) refused \(name): \(message)")
            guard fatal else { return }
            handshakeFailed = true
            handler.close()
        })
    }

    private func connectFailed(_ error: any Error) {
        // Debug only: the store logs one line when Redis stops answering (and why).
        logger.debug("cannot connect to Redis at \(configuration): \(error)")
        let queue: [(ByteBuffer, RedisPendingCall)]
        if case .connecting(let q) = state { queue = q } else { queue = [] }
        state = .backoff(until: NIODeadline.now() + backoff)
        backoff = min(backoff * 2, .seconds(2))
        for (_, call) in queue { call.finish(.failure(.unavailable("cannot connect"))) }
    }

    /// The channel closed; `error` is what closed it (a TLS handshake failure, a reset), and
    /// `answered` whether any reply came on it.
    private func connectionClosed(error: (any Error)?, answered: Bool) {
        guard case .ready = state else { return }
        logger.debug("connection to Redis at \(configuration) closed")
        if let error, !answered {
            // Closed before any reply: TLS refused (wrong CA, no client certificate, not TLS).
            // Not retried at once: that would fail the same way on every call.
            handshakeFailed = true
            let tls = configuration.tls
                ? "TLS handshake failed (check redis_ssl_ca_certs, redis_ssl_certfile/redis_ssl_keyfile and that the server speaks TLS): "
                : ""
            problems.report(node: configuration.description, "cannot talk to Redis at \(configuration): \(tls)\(error)", logger: logger, level: .error)
        }
        // The next call reconnects at once, unless the server refused our credentials.
        state = .backoff(until: handshakeFailed ? NIODeadline.now() + backoff : NIODeadline.now())
        if handshakeFailed {
            backoff = min(backoff * 2, .seconds(2))
            refusedSinceLastReply = true
        }
        handshakeFailed = false
    }

    func close() {
        if case .ready(let handler) = state { handler.close() }
        state = .idle
    }
}
