import RedisClient

/// Settlements: they go with the loop's batch of this tick, before its admissions; one that
/// changes nothing in Redis (no token correction, no failure) is not sent at all.
extension RedisStateStore {
    public func settle(_ s: Settlement) {
        let r = s.reservation
        workerLoads.ended(s)
        guard r.at & Self.redisFlag != 0 else {
            fallback.settle(s)
            return
        }
        guard limits.indices.contains(r.deployment) else { return }
        var outcome = "n", coolMs = "0"
        if case .failure(let now, let retryAfter) = s.outcome {
            outcome = now ? "c" : "f"
            coolMs = String(Int(max(cooldown.cooldownSeconds, retryAfter ?? 0) * 1000))
            if now || cooldown.allowedFails == 0 { markCooling(r.deployment) }
        }
        let correction = s.actualTokens.map { $0 - r.tokens } ?? 0
        guard correction != 0 || outcome != "n" else { return }
        let d = r.deployment, second = (r.at & ~Self.redisFlag) / 1_000_000_000
        enqueueSettlement(d, second: second, tokenCorrection: correction, outcome: outcome, coolMilliseconds: coolMs)
    }

    /// This worker sees its own cooldown before the next refresh.
    private func markCooling(_ d: Int) {
        cache.withLock { if $0.indices.contains(d) { $0[d].coolingDown = true } }
    }
}
