import NIOCore
import RedisClient
import Synchronization

/// The settlements and admissions one event loop made during a tick for one Redis Cluster slot
/// (or the one server), sent together as one ``RedisScripts/batch`` call.
struct RedisBatch {
    /// An admission waiting for its reply.
    struct Waiting: Sendable {
        /// The deployments it offered, in order (the reply names one by position).
        let candidates: ArraySlice<Int>
        /// Called with its element of the reply; `nil` when Redis did not answer.
        let answer: @Sendable (RedisValue?) -> Void
    }

    /// The most admissions one call carries (their stamps share the call's microsecond and
    /// differ in three more digits).
    static let maximumAdmissions = 500

    /// The deployment of each key block, in block order.
    private(set) var deployments: [Int] = []
    private(set) var settlements = 0
    private var settlementArgs: [String] = []
    private var admissionArgs: [String] = []
    private(set) var waiting: [Waiting] = []

    var isEmpty: Bool { settlements == 0 && waiting.isEmpty }

    /// The block of deployment `d`, added on first use (a call touches few deployments).
    private mutating func block(_ d: Int) -> String {
        if let b = deployments.firstIndex(of: d) { return String(b) }
        deployments.append(d)
        return String(deployments.count - 1)
    }

    /// Adds a settlement of the reservation stamped `at` on deployment `d`: `outcome` is `s`
    /// (`x`, `y`: latency and TTFT ms), `f` (`x`: cool now 1/0, `y`: cooldown ms) or `n`.
    mutating func settle(_ d: Int, at: String, tokenCorrection: Int, outcome: String, _ x: String, _ y: String) {
        settlementArgs.append(block(d))
        settlementArgs.append(at)
        settlementArgs.append(String(tokenCorrection))
        settlementArgs.append(outcome)
        settlementArgs.append(x)
        settlementArgs.append(y)
        settlements += 1
    }

    /// Adds an admission of `tokens` to the first of `candidates` that takes it.
    mutating func admit(_ candidates: ArraySlice<Int>, tokens: Int, enforce: Bool, answer: @escaping @Sendable (RedisValue?) -> Void) {
        admissionArgs.append(String(tokens))
        admissionArgs.append(enforce ? "1" : "0")
        admissionArgs.append(String(candidates.count))
        for d in candidates { admissionArgs.append(block(d)) }
        waiting.append(Waiting(candidates: candidates, answer: answer))
    }

    /// The script call's keys and arguments.
    func command(keys: [RedisKeys], limits: [(rpm: String, tpm: String)], head: (nonce: String, leaseMilliseconds: String, allowedFails: String)) -> (keys: [String], args: [String]) {
        var keyArgs: [String] = []
        keyArgs.reserveCapacity(deployments.count * 6)
        var args: [String] = []
        args.reserveCapacity(6 + deployments.count * 2 + settlementArgs.count + admissionArgs.count)
        args.append(head.nonce)
        args.append(head.leaseMilliseconds)
        args.append(head.allowedFails)
        args.append(String(deployments.count))
        for d in deployments {
            keyArgs += keys[d].batchKeys
            args.append(limits[d].rpm)
            args.append(limits[d].tpm)
        }
        args.append(String(settlements))
        args += settlementArgs
        args.append(String(waiting.count))
        args += admissionArgs
        return (keyArgs, args)
    }
}

/// One event loop's batches, by slot (``anySlot`` for one server); used only on that loop.
final class RedisLoopBatches {
    /// The slot of a store talking to one server.
    static let anySlot = -1

    var bySlot: [Int: RedisBatch] = [:]
    /// Whether a flush at the end of this tick is scheduled.
    var flushScheduled = false

    /// Everything waiting, by slot; nothing is scheduled any more.
    func takeAll() -> [Int: RedisBatch] {
        flushScheduled = false
        defer { bySlot = [:] }
        return bySlot
    }
}

/// The batches of every event loop the store is used on.
final class RedisBatches: Sendable {
    private let loops = Mutex<[ObjectIdentifier: Box]>([:])

    /// `loop`'s batches; call on `loop` only.
    func on(_ loop: any EventLoop) -> RedisLoopBatches {
        let key = ObjectIdentifier(loop)
        return loops.withLock { map in
            if let box = map[key] { return box.batches }
            let box = Box(batches: RedisLoopBatches())
            map[key] = box
            return box.batches
        }
    }

    /// A loop's batches, carried across threads but used only on their loop.
    private struct Box: @unchecked Sendable {
        let batches: RedisLoopBatches
    }
}
