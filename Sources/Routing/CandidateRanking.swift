import State

/// Orders a model group's deployments for one request by the routing strategy. The store then
/// admits the first one that is not cooling down and has room under its limits, so the order
/// is a preference, not a promise.
public struct CandidateRanking: Sendable {
    public let strategy: RoutingStrategy
    /// latency-based: deployments within this fraction of the best count as equally fast.
    public let latencyBuffer: Double

    public init(strategy: RoutingStrategy, latencyBuffer: Double = 0) {
        self.strategy = strategy
        self.latencyBuffer = latencyBuffer
    }

    /// Deployment slots of `group`, best first. `avoid` (slots that already failed this call)
    /// go last, so a retry prefers another deployment.
    public func rank<R: RandomNumberGenerator>(
        _ group: ModelGroup, store: any StateStore, stream: Bool, avoid: [Int], using rng: inout R
    ) -> [Int] {
        let n = group.slots.count
        if n == 1 { return group.slots }
        var order: [Int]
        switch strategy {
        case .simpleShuffle:
            order = weightedFirst(group, using: &rng)
        case .leastBusy:
            let loads = store.loads(group.slots)
            order = byScore(group, using: &rng) { Double(loads[$0].inFlight) }
        case .usageBased, .usageBasedV2:
            let loads = store.loads(group.slots)
            order = byScore(group, using: &rng) { i in
                // Share of the limit used when there is one, else raw tokens.
                let d = group.deployments[i].params
                let load = loads[i]
                if let tpm = d.tpm, tpm > 0 { return Double(load.tokensThisMinute) / Double(tpm) }
                if let rpm = d.rpm, rpm > 0 { return Double(load.requestsThisMinute) / Double(rpm) }
                return Double(load.tokensThisMinute)
            }
        case .latencyBased:
            let loads = store.loads(group.slots)
            let latency = { (i: Int) -> Double in stream ? loads[i].timeToFirstTokenMilliseconds : loads[i].latencyMilliseconds }
            let best = (0..<n).map(latency).filter { $0 > 0 }.min() ?? 0
            let limit = best * (1 + latencyBuffer)
            // Unmeasured deployments (0) count as fastest, so each gets tried.
            order = byScore(group, using: &rng) { i in
                let l = latency(i)
                return l <= limit ? 0 : l
            }
        case .costBased:
            order = byScore(group, using: &rng) { i in
                let info = group.deployments[i].modelInfo
                return (info.inputCostPerToken ?? 0) + (info.outputCostPerToken ?? 0)
            }
        }
        var slots = order.map { group.slots[$0] }
        if !avoid.isEmpty {
            let fresh = slots.filter { !avoid.contains($0) }
            if !fresh.isEmpty { slots = fresh + slots.filter { avoid.contains($0) } }
        }
        return slots
    }

    /// simple-shuffle: the first by weight (`weight`, else `rpm`, else `tpm`), then the others
    /// from a random starting point.
    func weightedFirst<R: RandomNumberGenerator>(_ group: ModelGroup, using rng: inout R) -> [Int] {
        let n = group.slots.count
        let first = group.pickIndex(using: &rng)
        var order = [first]
        order.reserveCapacity(n)
        let start = Int.random(in: 0..<n, using: &rng)
        for k in 0..<n {
            let i = (start + k) % n
            if i != first { order.append(i) }
        }
        return order
    }

    /// The lowest score first (a random one among equals), then the others from a random
    /// starting point: O(n), since the store only moves past the first when it is full or cooling.
    func byScore<R: RandomNumberGenerator>(_ group: ModelGroup, using rng: inout R, _ score: (Int) -> Double) -> [Int] {
        let n = group.slots.count
        let start = Int.random(in: 0..<n, using: &rng)
        var best = start
        var bestScore = score(start)
        for k in 1..<n {
            let i = (start + k) % n
            let s = score(i)
            if s < bestScore {
                best = i
                bestScore = s
            }
        }
        var order = [best]
        order.reserveCapacity(n)
        for k in 0..<n {
            let i = (start + k) % n
            if i != best { order.append(i) }
        }
        return order
    }
}
