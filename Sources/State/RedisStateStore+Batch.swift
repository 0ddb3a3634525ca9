import NIOCore
import NIOPosix
import RedisClient

/// Gathering a tick's admissions and settlements into one script call per slot.
extension RedisStateStore {
    /// Adds to the calling event loop's batch for `slot` (off any loop: to the client's
    /// fallback loop's), sent at the end of the loop's tick with whatever else the tick adds.
    func enqueue(slot: Int?, _ add: @escaping @Sendable (inout RedisBatch) -> Void) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            client.fallbackLoop.execute { self.enqueue(slot: slot, add) }
            return
        }
        let loopBatches = batches.on(loop)
        let key = slot ?? RedisLoopBatches.anySlot
        add(&loopBatches.bySlot[key, default: RedisBatch()])
        if let batch = loopBatches.bySlot[key], batch.waiting.count >= RedisBatch.maximumAdmissions {
            loopBatches.bySlot[key] = nil
            send(batch, slot: slot)
        }
        guard !loopBatches.flushScheduled else { return }
        loopBatches.flushScheduled = true
        loop.assumeIsolated().execute { [weak self] in self?.flush(loopBatches) }
    }

    /// Sends everything `loopBatches` holds (on its loop).
    private func flush(_ loopBatches: RedisLoopBatches) {
        for (key, batch) in loopBatches.takeAll() where !batch.isEmpty {
            send(batch, slot: key == RedisLoopBatches.anySlot ? nil : key)
        }
    }

    /// One script call for `batch`; each admission gets its element of the reply.
    private func send(_ batch: RedisBatch, slot: Int?) {
        let (keyArgs, args) = batch.command(keys: keys, limits: limitArgs, head: batchHead)
        let waiting = batch.waiting
        client.evaluate(RedisScripts.batch, keys: keyArgs, args: args, slot: slot) { [health] result in
            switch result {
            case .success(.array(let replies)) where replies.count == waiting.count:
                health.answered()
                for (w, reply) in zip(waiting, replies) { w.answer(reply) }
            case .success(let value):
                health.failed("unexpected reply to the batch script: \(Self.brief(value))")
                for w in waiting { w.answer(nil) }
            case .failure(let error):
                // A lost settlement costs little: the lease expires, the estimate stays counted.
                health.failed(error.description)
                for w in waiting { w.answer(nil) }
            }
        }
    }
}
