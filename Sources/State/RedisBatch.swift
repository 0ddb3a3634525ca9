import NIOCore
import RedisClient
import Synchronization

/// The settlements and admissions one event loop made during a tick for one Redis Cluster slot
/// (or the one server), sent together as one ``RedisScripts/batch`` call.
struct RedisBatch {
    /// An admission waiting for its reply.
    struct Waiting: Sendable {
        let admission: Admission
        /// The runs of candidates on one slot still to ask, in order (one, with one Redis
        /// server); the first is this call's.
        let runs: ArraySlice<ArraySlice<Int>>
        /// What the runs asked before refused, added up.
        let refused: Refusal?
        let completion: @Sendable (AdmissionResult) -> Void

        /// The candidates this call asks about.
        var candidates: ArraySlice<Int> { runs[runs.startIndex] }
    }

    /// The most admissions one call carries.
    static let maximumAdmissions = 500

    /// The deployment of each key block, in block order.
    private(set) var deployments: [Int] = []
    /// Settlements in order; those that only correct tokens are summed per deployment and second.
    private var settlements: [SettlementEntry] = []

    struct SettlementEntry {
        let block: String
        let deployment: Int
        let second: UInt64
        var tokenCorrection: Int
        let outcome: String
        let coolMilliseconds: String
    }
    private var admissionArgs: [String] = []
    private(set) var waiting: [Waiting] = []

    var isEmpty: Bool { settlements.isEmpty && waiting.isEmpty }

    /// The block of deployment `d`, added on first use (a call touches few deployments).
    private mutating func block(_ d: Int) -> String {
        if let b = deployments.firstIndex(of: d) { return String(b) }
        deployments.append(d)
        return String(deployments.count - 1)
    }

    /// Adds a settlement of a reservation made in `second` on deployment `d`: `outcome` is `c`
    /// (a failure that cools the deployment at once, for `coolMilliseconds`), `f` (a failure)
    /// or `n` (no failure: only the token correction, added to the tick's others for the same
    /// deployment and second — under load one correction carries most of a tick's calls).
    mutating func settle(_ d: Int, second: UInt64, tokenCorrection: Int, outcome: String, coolMilliseconds: String) {
        if outcome == "n", let i = settlements.lastIndex(where: { $0.deployment == d && $0.second == second && $0.outcome == "n" }) {
            settlements[i].tokenCorrection += tokenCorrection
            return
        }
        settlements.append(SettlementEntry(
            block: block(d), deployment: d, second: second, tokenCorrection: tokenCorrection, outcome: outcome, coolMilliseconds: coolMilliseconds))
    }

    /// Adds an admission on the first of its candidates that takes it.
    mutating func admit(_ w: Waiting) {
        admissionArgs.append(String(w.admission.tokens))
        admissionArgs.append(w.admission.enforceLimits ? "1" : "0")
        admissionArgs.append(String(w.candidates.count))
        for d in w.candidates { admissionArgs.append(block(d)) }
        waiting.append(w)
    }

    /// The script call's keys and arguments.
    func command(keys: [RedisKeys], limits: [(rpm: String, tpm: String)], head: (nonce: String, allowedFails: String)) -> (keys: [String], args: [String]) {
        var keyArgs: [String] = []
        keyArgs.reserveCapacity(deployments.count * 4)
        var args: [String] = []
        args.reserveCapacity(5 + deployments.count * 2 + settlements.count * 5 + admissionArgs.count)
        args.append(head.nonce)
        args.append(head.allowedFails)
        args.append(String(deployments.count))
        for d in deployments {
            keyArgs += keys[d].batchKeys
            args.append(limits[d].rpm)
            args.append(limits[d].tpm)
        }
        args.append(String(settlements.count))
        for e in settlements {
            args.append(e.block)
            args.append(String(e.second))
            args.append(String(e.tokenCorrection))
            args.append(e.outcome)
            args.append(e.coolMilliseconds)
        }
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
