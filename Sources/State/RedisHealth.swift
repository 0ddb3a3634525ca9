import Logging
import NIOCore
import Synchronization

/// Whether the Redis store is answering, with one log line when it stops and one when it
/// answers again (never per request; a Redis that keeps flapping is reported at most once per
/// `quietSeconds`), and a count of the answers given without Redis.
final class RedisHealth: Sendable {
    private let answering = Atomic<Bool>(true)
    private let unanswered = Atomic<Int>(0)
    /// Uptime nanoseconds of the last "not answering" line.
    private let lastReport = Atomic<UInt64>(0)
    private let reported = Atomic<Bool>(false)
    /// Interruptions not reported since the last line.
    private let unreported = Atomic<Int>(0)
    private let logger: Logger
    private let server: String
    private let failClosed: Bool
    static let quietSeconds: UInt64 = 10

    init(logger: Logger, server: String, failClosed: Bool) {
        self.logger = logger
        self.server = server
        self.failClosed = failClosed
    }

    var isAnswering: Bool { answering.load(ordering: .relaxed) }

    /// Admissions answered without Redis (per process, or refused when failing closed).
    var answersWithoutRedis: Int { unanswered.load(ordering: .relaxed) }

    func answeredWithoutRedis() { unanswered.add(1, ordering: .relaxed) }

    func failed(_ why: @autoclosure () -> String) {
        guard answering.exchange(false, ordering: .relaxed) else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let last = lastReport.load(ordering: .relaxed)
        guard last == 0 || now &- last >= Self.quietSeconds * 1_000_000_000 else {
            unreported.add(1, ordering: .relaxed)
            return
        }
        lastReport.store(now, ordering: .relaxed)
        reported.store(true, ordering: .relaxed)
        let then = failClosed
            ? "calls are refused (429, redis_fail_closed) until it answers again"
            : "rpm/tpm limits, cooldowns and in-flight counts hold per worker (fail open) until it answers again"
        logger.warning("Redis at \(server) is not answering (\(why())): \(then)")
    }

    func answered() {
        guard !answering.exchange(true, ordering: .relaxed), reported.exchange(false, ordering: .relaxed) else { return }
        let more = unreported.exchange(0, ordering: .relaxed)
        let note = more > 0 ? " (\(more) more short interruptions in the last \(Self.quietSeconds) s)" : ""
        logger.notice("Redis at \(server) answers again: limits, cooldowns and loads are shared across workers\(note)")
    }
}
