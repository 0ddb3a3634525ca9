import Logging
import Server
import Synchronization

/// A worker's graceful stop: readiness turns 503, the listener closes (only this process's
/// descriptor of it), in-flight calls and streams finish, and clients get a moment to close
/// their keep-alive connections (every answer while draining says `connection: close`).
/// Several triggers may arrive (retired by a reload, then SIGTERM): the shortest grace wins.
final class WorkerDrain: Sendable {
    /// After the calls are done, how long idle keep-alive clients get to send one more request
    /// (answered with `connection: close`) before exiting closes their connections.
    static let idleLinger: Duration = .seconds(2)

    private let server: GatewayServer
    private let logger: Logger
    private let deadline = Mutex<ContinuousClock.Instant?>(nil)

    init(server: GatewayServer, logger: Logger) {
        self.server = server
        self.logger = logger
    }

    /// Starts draining (the first call) or shortens the grace (later calls).
    func begin(grace: Duration, reason: String) {
        let end = ContinuousClock.now + grace
        let first = deadline.withLock { current -> Bool in
            defer { current = min(current ?? end, end) }
            return current == nil
        }
        guard first else { return }
        logger.info("\(reason): stopping accepting and draining")
        server.gateway.isReady = false
        let server = self.server
        Task { try? await server.stop() }
    }

    /// After the listener closed: waits for calls in flight, then for clients to close.
    func finish() async {
        let inFlight = server.gateway.inFlight
        if inFlight > 0 {
            logger.info("draining \(inFlight) in-flight calls (up to \(remaining.components.seconds) s)")
        }
        while server.gateway.inFlight > 0 && remaining > .zero {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = server.gateway.inFlight
        if left > 0 { logger.warning("stopped with \(left) calls still in flight after the grace period") }
        _ = await server.waitForOpenConnections(grace: min(Self.idleLinger, max(remaining, .zero)))
    }

    private var remaining: Duration {
        (deadline.withLock { $0 } ?? .now) - .now
    }
}
