import Logging
import Synchronization

/// A client's connection problems, logged once each per node (across its event loops) until a
/// call to that node succeeds again: a wrong CA or an unreachable node is one clear line, not
/// one per call or per loop.
final class RedisProblemLog: Sendable {
    private let logged = Mutex<[String: Set<String>]>([:])
    private let count = Atomic<Int>(0)

    /// Whether any node has a problem logged (one atomic load: the success path checks it).
    var hasProblem: Bool { count.load(ordering: .relaxed) > 0 }

    func report(node: String, _ message: String, logger: Logger, level: Logger.Level) {
        let new = logged.withLock { $0[node, default: []].insert(message).inserted }
        guard new else { return }
        count.add(1, ordering: .relaxed)
        logger.log(level: level, "\(message)")
    }

    func solved(node: String) {
        let removed = logged.withLock { $0.removeValue(forKey: node)?.count ?? 0 }
        if removed > 0 { count.subtract(removed, ordering: .relaxed) }
    }
}
