import NIOCore
import NIOPosix
import RedisClient
import Synchronization

/// The loads the strategies read: a cache refreshed every `refreshInterval` by one script call
/// (one per slot in a cluster).
extension RedisStateStore {
    /// The shared loads as last read (at most `refreshInterval` old); this worker's own view
    /// while Redis is not answering.
    public func loads(_ deployments: [Int]) -> [DeploymentLoad] {
        guard health.isAnswering else { return fallback.loads(deployments) }
        return cache.withLock { cache in deployments.map { cache.indices.contains($0) ? cache[$0] : DeploymentLoad() } }
    }

    /// Starts the background refresh of the loads on the caller's event loop (once; a no-op
    /// off an event loop).
    func startRefreshing() {
        guard !refreshing.load(ordering: .relaxed), let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return }
        startRefreshing(on: loop)
    }

    /// Starts the background refresh of the loads on `loop` (once).
    public func startRefreshing(on loop: any EventLoop) {
        guard !limits.isEmpty, !refreshing.exchange(true, ordering: .relaxed) else { return }
        loop.scheduleRepeatedTask(initialDelay: .zero, delay: options.refreshInterval) { [weak self] task in
            guard let self else {
                task.cancel()
                return
            }
            self.refresh()
        }
    }

    private func refresh() {
        guard client.isAvailable, !refreshInFlight.exchange(true, ordering: .relaxed) else { return }
        // One script call for all deployments; in a cluster one per slot, pipelined.
        var groups: [[Int]] = [Array(limits.indices)]
        if !slots.isEmpty {
            var bySlot: [Int: [Int]] = [:]
            for d in limits.indices { bySlot[slots[d], default: []].append(d) }
            groups = Array(bySlot.values)
        }
        let gathered = RedisLoadsGathering(parts: groups.count, count: limits.count)
        for group in groups {
            let keyArgs = group.flatMap { [keys[$0].usage, keys[$0].cooldown, keys[$0].leases, keys[$0].latency] }
            client.evaluate(RedisScripts.loads, keys: keyArgs, args: [], slot: slots.isEmpty ? nil : slots[group[0]]) { [self] result in
                var loads: [DeploymentLoad]?
                if case .success(let value) = result, case .array(let rows) = value, rows.count == group.count {
                    loads = rows.map(Self.load)
                }
                guard let all = gathered.add(loads, for: group) else { return }
                refreshInFlight.store(false, ordering: .relaxed)
                if let all { cache.withLock { $0 = all } }
            }
        }
    }

    /// One deployment's row of the loads script.
    static func load(_ row: RedisValue) -> DeploymentLoad {
        let f = row.elements
        var load = DeploymentLoad()
        guard f.count == 6 else { return load }
        load.inFlight = f[0].int ?? 0
        load.requestsThisMinute = f[1].int ?? 0
        load.tokensThisMinute = f[2].int ?? 0
        load.latencyMilliseconds = f[3].double ?? 0
        load.timeToFirstTokenMilliseconds = f[4].double ?? 0
        load.coolingDown = (f[5].int ?? 0) > 0
        return load
    }
}


/// The loads of one refresh, gathered from its script calls (one per cluster slot).
final class RedisLoadsGathering: Sendable {
    private let state: Mutex<(left: Int, failed: Bool, loads: [DeploymentLoad])>

    init(parts: Int, count: Int) {
        state = Mutex((parts, false, Array(repeating: DeploymentLoad(), count: count)))
    }

    /// Adds one call's loads (`nil`: it failed); when it was the last, returns `.some` of all
    /// the loads (`.some(nil)` when a call failed), else `nil`.
    func add(_ loads: [DeploymentLoad]?, for deployments: [Int]) -> [DeploymentLoad]?? {
        state.withLock { s in
            if let loads {
                for (i, d) in deployments.enumerated() { s.loads[d] = loads[i] }
            } else {
                s.failed = true
            }
            s.left -= 1
            guard s.left == 0 else { return nil }
            return .some(s.failed ? nil : s.loads)
        }
    }
}
