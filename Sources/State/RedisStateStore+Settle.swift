import NIOCore
import NIOPosix
import RedisClient

/// Settlements: queued to ride on the next admission's script call, or sent (failures at once).
extension RedisStateStore {
    public func settle(_ s: Settlement) {
        let r = s.reservation
        guard r.at & Self.redisFlag != 0 else {
            fallback.settle(s)
            return
        }
        guard limits.indices.contains(r.deployment) else { return }
        let stamp = (r.at & ~Self.redisFlag) / 1000
        let k = keys[r.deployment]
        var outcome = "n", coolNow = "0", coolMs = 0
        switch s.outcome {
        case .success: outcome = "s"
        case .neutral: break
        case .failure(let now, let retryAfter):
            outcome = "f"
            coolNow = now ? "1" : "0"
            coolMs = Int(max(cooldown.cooldownSeconds, retryAfter ?? 0) * 1000)
            if now || cooldown.allowedFails == 0 { markCooling(r.deployment) }
        }
        let args = [
            "\(stamp):\(nonce)", String(stamp / 1_000_000), String(s.actualTokens.map { $0 - r.tokens } ?? 0),
            outcome, coolNow, String(coolMs), String(cooldown.allowedFails),
            String(s.latencyMilliseconds), String(s.timeToFirstTokenMilliseconds),
        ]
        let entry = RedisSettlementQueue.Entry(keys: k.settleKeys, args: args)
        let slot = slots.isEmpty ? RedisSettlementQueue.anySlot : slots[r.deployment]
        guard outcome != "f", let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            send([entry], slot: slot)
            return
        }
        if pendingSettlements.add(entry, slot: slot) {
            loop.scheduleTask(in: options.settleDelay) { [weak self] in self?.flushSettlements() }
        }
    }

    /// Sends the settlements no admission carried.
    func flushSettlements() {
        for (slot, entries) in pendingSettlements.takeAll() { send(entries, slot: slot) }
    }

    /// One settle script call for `entries` (all on `slot`), not awaited.
    private func send(_ entries: [RedisSettlementQueue.Entry], slot: Int) {
        let (keys, args) = RedisSettlementQueue.arguments(entries)
        client.evaluate(RedisScripts.settle, keys: keys, args: args, slot: slot == RedisSettlementQueue.anySlot ? nil : slot) { [health] result in
            // A lost settlement costs little: the lease expires, the estimate stays counted.
            switch result {
            case .success(.error(let message)): health.failed("settle script: \(message)")
            case .success: health.answered()
            case .failure(let error): health.failed(error.description)
            }
        }
    }

    /// This worker sees its own cooldown before the next refresh.
    private func markCooling(_ d: Int) {
        cache.withLock { if $0.indices.contains(d) { $0[d].coolingDown = true } }
    }
}
