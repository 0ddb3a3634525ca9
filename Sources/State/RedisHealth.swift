import Logging
import Synchronization

/// Whether the Redis store is answering, with one log line per change (never per request) and
/// a count of the answers given without Redis.
final class RedisHealth: Sendable {
    private let answering = Atomic<Bool>(true)
    private let unanswered = Atomic<Int>(0)
    private let logger: Logger
    private let server: String
    private let failClosed: Bool

    init(logger: Logger, server: String, failClosed: Bool) {
        self.logger = logger
        self.server = server
        self.failClosed = failClosed
    }

    var isAnswering: Bool { answering.load(ordering: .relaxed) }

    /// Admissions answered without Redis (per process, or refused when failing closed).
    var answersWithoutRedis: Int { unanswered.load(ordering: .relaxed) }

    func answeredWithoutRedis() { unanswered.add(1, ordering: .relaxed) }

    func failed(_ why: String) {
        guard answering.exchange(false, ordering: .relaxed) else { return }
        let then = failClosed
            ? "calls are refused (429, redis_fail_closed) until it answers again"
            : "rpm/tpm limits, cooldowns and in-flight counts hold per worker (fail open) until it answers again"
        logger.warning("Redis at \(server) is not answering (\(why)): \(then)")
    }

    func answered() {
        guard !answering.exchange(true, ordering: .relaxed) else { return }
        logger.notice("Redis at \(server) answers again: limits, cooldowns and loads are shared across workers")
    }
}
