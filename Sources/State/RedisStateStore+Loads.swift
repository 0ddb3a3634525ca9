import NIOCore
import NIOPosix
import RedisClient
import Synchronization

/// The loads the strategies read: a cache refreshed every `refreshInterval` by one script call
/// (one per slot in a cluster).
extension RedisStateStore {
    /// The shared loads as last read (at most `refreshInterval` old) with this worker's own
    /// calls in flight as they are now; this worker's own view while Redis is not answering.
    public func loads(_ deployments: [Int]) -> [DeploymentLoad] {
        guard health.isAnswering else { return fallback.loads(deployments) }
        let own = workerLoads.snapshot
        return cache.withLock { cache in
            deployments.map { d in
                guard cache.indices.contains(d) else { return DeploymentLoad() }
                var load = cache[d]
                load.inFlight += own[d].inFlight
                return load
            }
        }
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
        let task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: options.refreshInterval) { [weak self] task in
            guard let self else {
                task.cancel()
                return
            }
            self.refresh()
        }
        refreshTask.withLock { $0 = task }
    }

    /// Stops the refresh for good: this worker's published loads expire after
    /// ``Options/publishedLife`` (as a dead worker's do).
    public func stopRefreshing() {
        refreshing.store(true, ordering: .relaxed)
        refreshTask.withLock { $0?.cancel() }
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
        let own = workerLoads.snapshot
        let life = String(options.publishedLife.nanoseconds / 1_000_000)
        for group in groups {
            let keyArgs = group.flatMap { keys[$0].loadKeys }
            var args = [nonce, life]
            for d in group {
                args.append(String(own[d].inFlight))
                args.append(String(Int(own[d].latency * 1000)))
                args.append(String(Int(own[d].timeToFirstToken * 1000)))
            }
            client.evaluate(RedisScripts.loads, keys: keyArgs, args: args, slot: slots.isEmpty ? nil : slots[group[0]]) { [self] result in
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

    /// One deployment's row of the loads script (in flight: the other workers').
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
