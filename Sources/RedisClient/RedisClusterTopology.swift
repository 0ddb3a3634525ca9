import NIOCore
import Synchronization

/// The client's view of a Redis Cluster, shared by all event loops: the slot map (read from
/// `CLUSTER SLOTS` of a seed or known node, patched by `MOVED` replies) and a generation
/// number, so each loop copies the map only when it changed.
final class RedisClusterTopology: Sendable {
    /// The configured startup nodes (`redis_startup_nodes`): asked first for the slot map.
    let seeds: [RedisNodeAddress]
    private let state = Mutex(RedisSlotMap())
    private let generationCounter = Atomic<Int>(0)
    private let refreshRunning = Atomic<Bool>(false)
    /// Uptime nanoseconds of the last refresh started (refreshes are at most every `minimumInterval`).
    private let lastRefresh = Atomic<UInt64>(0)
    static let minimumInterval: UInt64 = 100_000_000

    init(seeds: [RedisNodeAddress]) {
        precondition(!seeds.isEmpty, "a cluster needs at least one startup node")
        self.seeds = seeds
    }

    /// Changes with every change of the map.
    var generation: Int { generationCounter.load(ordering: .acquiring) }

    var map: RedisSlotMap { state.withLock { $0 } }

    /// Where a call for `slot` goes: its master when known, else the first seed (which
    /// answers `MOVED` when it is not the master).
    static func node(for slot: Int?, in map: RedisSlotMap, seeds: [RedisNodeAddress]) -> RedisNodeAddress {
        if let slot, let node = map.node(for: slot) { return node }
        return map.nodes.first ?? seeds[0]
    }

    /// A `MOVED` reply: `slot` is served by `node` from now on.
    func moved(_ slot: Int, to node: RedisNodeAddress) {
        state.withLock { map in
            guard map.node(for: slot) != node else { return }
            map.assign(slot, to: node)
            generationCounter.add(1, ordering: .releasing)
        }
    }

    func replace(with map: RedisSlotMap) {
        state.withLock { $0 = map }
        generationCounter.add(1, ordering: .releasing)
    }

    /// Whether a refresh may start now (none running, none started in the last 100 ms); the
    /// caller must call ``refreshEnded()`` when it ends.
    func beginRefresh(force: Bool = false) -> Bool {
        let now = NIODeadline.now().uptimeNanoseconds
        let last = lastRefresh.load(ordering: .relaxed)
        guard force || last == 0 || now &- last >= Self.minimumInterval else { return false }
        guard !refreshRunning.exchange(true, ordering: .acquiring) else { return false }
        lastRefresh.store(now, ordering: .relaxed)
        return true
    }

    func refreshEnded() {
        refreshRunning.store(false, ordering: .releasing)
    }

    /// The nodes to ask for the slot map, in order: the known masters, then the seeds.
    var refreshCandidates: [RedisNodeAddress] {
        var out = map.nodes
        for s in seeds where !out.contains(s) { out.append(s) }
        return out
    }
}
