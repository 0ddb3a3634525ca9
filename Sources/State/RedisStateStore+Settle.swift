import RedisClient

/// Settlements: they go with the loop's batch of this tick, before its admissions.
extension RedisStateStore {
    public func settle(_ s: Settlement) {
        let r = s.reservation
        guard r.at & Self.redisFlag != 0 else {
            fallback.settle(s)
            return
        }
        guard limits.indices.contains(r.deployment) else { return }
        var outcome = "n", x = "0", y = "0"
        switch s.outcome {
        case .success:
            outcome = "s"
            x = String(s.latencyMilliseconds)
            y = String(s.timeToFirstTokenMilliseconds)
        case .neutral: break
        case .failure(let now, let retryAfter):
            outcome = "f"
            x = now ? "1" : "0"
            y = String(Int(max(cooldown.cooldownSeconds, retryAfter ?? 0) * 1000))
            if now || cooldown.allowedFails == 0 { markCooling(r.deployment) }
        }
        let d = r.deployment, at = String(r.at & ~Self.redisFlag), correction = s.actualTokens.map { $0 - r.tokens } ?? 0
        enqueue(slot: slots.isEmpty ? nil : slots[d]) { [outcome, x, y] batch in
            batch.settle(d, at: at, tokenCorrection: correction, outcome: outcome, x, y)
        }
    }

    /// This worker sees its own cooldown before the next refresh.
    private func markCooling(_ d: Int) {
        cache.withLock { if $0.indices.contains(d) { $0[d].coolingDown = true } }
    }
}
