import Synchronization

/// This worker's own share of the loads: its calls in flight and its latency averages per
/// deployment. Kept here, without a Redis call per request, and published with every loads
/// refresh, where the other workers' shares are read (``RedisScripts/loads``).
final class WorkerLoads: Sendable {
    struct Row: Sendable, Equatable {
        var inFlight = 0
        /// Moving averages in milliseconds (0: no sample yet).
        var latency = 0.0
        var timeToFirstToken = 0.0
    }

    private let rows: Mutex<[Row]>

    init(deployments: Int) {
        rows = Mutex(Array(repeating: Row(), count: deployments))
    }

    /// A call was admitted on deployment `d`.
    func started(_ d: Int) {
        rows.withLock { if $0.indices.contains(d) { $0[d].inFlight += 1 } }
    }

    /// A call admitted earlier ended: it leaves the in-flight count, a success feeds the averages.
    func ended(_ s: Settlement) {
        let d = s.reservation.deployment
        rows.withLock { rows in
            guard rows.indices.contains(d) else { return }
            rows[d].inFlight = max(0, rows[d].inFlight - 1)
            guard s.outcome == .success else { return }
            if s.latencyMilliseconds > 0 { rows[d].latency = EmbeddedStateStore.average(rows[d].latency, s.latencyMilliseconds) }
            if s.timeToFirstTokenMilliseconds > 0 {
                rows[d].timeToFirstToken = EmbeddedStateStore.average(rows[d].timeToFirstToken, s.timeToFirstTokenMilliseconds)
            }
        }
    }

    /// Every deployment's row, in order.
    var snapshot: [Row] { rows.withLock { $0 } }
}
