import NIOCore
import NIOPosix
import RedisClient

/// Gathering a tick's admissions and settlements into one script call per slot.
extension RedisStateStore {
    /// Asks about the waiting admission's first run of candidates in the calling event loop's
    /// batch (off any loop: the client's fallback loop's).
    func enqueue(_ w: RedisBatch.Waiting) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            client.fallbackLoop.execute { self.enqueue(w) }
            return
        }
        let loopBatches = batches.on(loop)
        let key = slots.isEmpty ? RedisLoopBatches.anySlot : slots[w.candidates[w.candidates.startIndex]]
        loopBatches.bySlot[key, default: RedisBatch()].admit(w)
        added(to: loopBatches, key: key, on: loop)
    }

    /// Adds a settlement to the calling event loop's batch (off any loop: the fallback loop's).
    func enqueueSettlement(_ d: Int, second: UInt64, tokenCorrection: Int, outcome: String, coolMilliseconds: String) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            client.fallbackLoop.execute {
                self.enqueueSettlement(d, second: second, tokenCorrection: tokenCorrection, outcome: outcome, coolMilliseconds: coolMilliseconds)
            }
            return
        }
        let loopBatches = batches.on(loop)
        let key = slots.isEmpty ? RedisLoopBatches.anySlot : slots[d]
        loopBatches.bySlot[key, default: RedisBatch()].settle(d, second: second, tokenCorrection: tokenCorrection, outcome: outcome, coolMilliseconds: coolMilliseconds)
        added(to: loopBatches, key: key, on: loop)
    }

    /// Sends the batch at once when full, and makes sure the loop sends what it gathers at the
    /// end of this tick.
    private func added(to loopBatches: RedisLoopBatches, key: Int, on loop: any EventLoop) {
        if let batch = loopBatches.bySlot[key], batch.waiting.count >= RedisBatch.maximumAdmissions {
            loopBatches.bySlot[key] = nil
            send(batch, slot: key)
        }
        guard !loopBatches.flushScheduled else { return }
        loopBatches.flushScheduled = true
        loop.assumeIsolated().execute { [weak self] in self?.flush(loopBatches) }
    }

    /// Sends everything `loopBatches` holds (on its loop).
    private func flush(_ loopBatches: RedisLoopBatches) {
        for (key, batch) in loopBatches.takeAll() where !batch.isEmpty { send(batch, slot: key) }
    }

    /// One script call for `batch`; each admission gets its element of the reply.
    private func send(_ batch: RedisBatch, slot key: Int) {
        let (keyArgs, args) = batch.command(keys: keys, limits: limitArgs, head: batchHead)
        let waiting = batch.waiting
        client.evaluate(RedisScripts.batch, keys: keyArgs, args: args, slot: key == RedisLoopBatches.anySlot ? nil : key) { [self] result in
            switch result {
            case .success(.array(let replies)) where replies.count == waiting.count + 1 && replies[0].text.flatMap(UInt64.init) != nil:
                health.answered()
                let stamp = replies[0].text.flatMap(UInt64.init)!
                for (i, w) in waiting.enumerated() { answered(w, replies[i + 1], stamp: stamp) }
            case .success(let value):
                health.failed("unexpected reply to the batch script: \(Self.brief(value))")
                for w in waiting { finish(w, withoutRedis(w.admission)) }
            case .failure(let error):
                // A lost settlement costs little: the estimate stays counted.
                health.failed(error.description)
                for w in waiting { finish(w, withoutRedis(w.admission)) }
            }
        }
    }
}
