import Logging
import NIOCore
import NIOPosix
import RedisClient
import Synchronization

/// The state store of a cluster: every worker of every pod that points at the same Redis shares
/// one set of rpm/tpm windows and cooldowns, and sees every worker's in-flight counts and
/// latency averages.
///
/// The admissions and settlements an event loop makes during one tick go to Redis together, as
/// one `EVALSHA` of ``RedisScripts/batch`` (per cluster slot): each admission decided on all
/// its candidates, in order, atomically on the server clock; nobody waits for a settlement.
/// In-flight counts and latency averages need no call per request: each worker keeps its own
/// (``WorkerLoads``) and publishes them with the loads refresh, which reads the others'. ``loads(_:)`` reads a cache refreshed every `refreshInterval` by one
/// pipelined script call. When Redis does not answer within the client's deadline (or its
/// circuit breaker is open) the store answers from an ``EmbeddedStateStore`` (fail open, the
/// default) or refuses with ``Refusal/Reason/unavailable`` (fail closed), and goes back to
/// Redis as soon as it answers.
public final class RedisStateStore: StateStore {
    /// How the store behaves beyond the Redis connection.
    public struct Options: Sendable {
        /// Refuse admissions while Redis is down instead of falling back to per-worker limits.
        public var failClosed: Bool
        /// How long a worker's published in-flight counts and averages count when it stops
        /// publishing them (it died): a few refresh intervals.
        public var publishedLife: TimeAmount
        /// How often the shared loads are read for the strategies.
        public var refreshInterval: TimeAmount

        public init(failClosed: Bool = false, refreshInterval: TimeAmount = .milliseconds(50), publishedLife: TimeAmount = .seconds(2)) {
            self.failClosed = failClosed
            self.publishedLife = publishedLife
            self.refreshInterval = refreshInterval
        }
    }

    /// Marks reservations made in Redis (their `at` is Redis-clock nanoseconds with this bit set);
    /// the others were made by the fallback store.
    static let redisFlag: UInt64 = 1 << 63

    public let client: RedisClient
    public let options: Options
    let limits: [DeploymentLimits]
    let keys: [RedisKeys]
    /// Each deployment's Redis Cluster slot (empty when Redis is one server).
    let slots: [Int]
    let cooldown: CooldownPolicy
    /// Answers while Redis does not (fail open).
    let fallback: EmbeddedStateStore
    let health: RedisHealth
    /// What each event loop's tick will send.
    let batches = RedisBatches()
    /// Tells this worker's published loads and window entries apart from other workers'.
    let nonce: String
    /// Each deployment's rpm and tpm as the batch script's arguments (`-1`: none), built once.
    let limitArgs: [(rpm: String, tpm: String)]
    /// The batch script's first arguments, built once.
    let batchHead: (nonce: String, allowedFails: String)
    /// This worker's in-flight counts and latency averages.
    let workerLoads: WorkerLoads
    let cache: Mutex<[DeploymentLoad]>
    let refreshing = Atomic<Bool>(false)
    let refreshInFlight = Atomic<Bool>(false)
    let refreshTask = Mutex<RepeatedTask?>(nil)

    public init(deployments: [DeploymentLimits], cooldown: CooldownPolicy, client: RedisClient, options: Options = Options(), logger: Logger) {
        self.client = client
        client.preload([RedisScripts.batch, RedisScripts.loads])
        self.options = options
        limits = deployments
        keys = deployments.map { RedisKeys(id: $0.id) }
        slots = client.isCluster ? keys.map { RedisClusterSlot.of(key: $0.usage) } : []
        self.cooldown = cooldown
        fallback = EmbeddedStateStore(deployments: deployments, cooldown: cooldown)
        health = RedisHealth(logger: logger, server: client.configuration.description, failClosed: options.failClosed)
        nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        limitArgs = deployments.map { (String($0.rpm ?? -1), String($0.tpm ?? -1)) }
        batchHead = (nonce, String(cooldown.allowedFails))
        workerLoads = WorkerLoads(deployments: deployments.count)
        cache = Mutex(Array(repeating: DeploymentLoad(), count: deployments.count))
    }

    /// Admissions answered without Redis so far (a metric of time spent failing open or closed).
    public var answersWithoutRedis: Int { health.answersWithoutRedis }

    // MARK: Admit

    /// Never at once while Redis is reachable; at once (from the fallback, or a refusal) while
    /// the connection is down or its breaker open.
    public func admitNow(_ admission: Admission) -> AdmissionResult? {
        startRefreshing()
        let available = slots.isEmpty
            ? client.isAvailable
            : client.isAvailable(slot: admission.candidates.first.flatMap { slots.indices.contains($0) ? slots[$0] : nil })
        guard !available else { return nil }
        health.failed("reconnecting, or its circuit breaker is open")
        return counted(withoutRedis(admission))
    }

    public func admit(_ admission: Admission, completion: @escaping @Sendable (AdmissionResult) -> Void) {
        startRefreshing()
        let candidates = admission.candidates.allSatisfy({ limits.indices.contains($0) })
            ? admission.candidates : admission.candidates.filter { limits.indices.contains($0) }
        guard !candidates.isEmpty else {
            completion(.refused(Refusal(reason: .coolingDown, retryAfter: 1)))
            return
        }
        // One script call for all candidates; in a cluster one per run of candidates on one
        // slot, in order, until one admits (a script never touches two slots).
        var runs: [ArraySlice<Int>] = [candidates[...]]
        if !slots.isEmpty {
            runs = []
            var start = 0
            for i in 1...candidates.count where i == candidates.count || slots[candidates[i]] != slots[candidates[start]] {
                runs.append(candidates[start..<i])
                start = i
            }
        }
        enqueue(RedisBatch.Waiting(admission: admission, runs: runs[...], refused: nil, completion: completion))
    }

    /// An admission's element of the batch script's reply (`stamp`: the call's): the result,
    /// or the next run of candidates asked after a refusal.
    func answered(_ w: RedisBatch.Waiting, _ reply: RedisValue, stamp: UInt64) {
        switch Self.admission(reply, candidates: w.candidates, tokens: w.admission.tokens, stamp: stamp) {
        case .admitted(let reservation)?:
            finish(w, .admitted(reservation))
        case .refused(let refusal)?:
            let refused = w.refused.map { Self.combine($0, refusal) } ?? refusal
            guard w.runs.count > 1 else { return finish(w, .refused(refused)) }
            enqueue(RedisBatch.Waiting(admission: w.admission, runs: w.runs.dropFirst(), refused: refused, completion: w.completion))
        case nil:
            health.failed("unexpected reply to the batch script: \(Self.brief(reply))")
            finish(w, withoutRedis(w.admission))
        }
    }

    /// Completes a waiting admission (counted in flight when admitted).
    func finish(_ w: RedisBatch.Waiting, _ result: AdmissionResult) {
        w.completion(counted(result))
    }

    /// `result`, counted in flight when it admits.
    private func counted(_ result: AdmissionResult) -> AdmissionResult {
        if case .admitted(let r) = result { workerLoads.started(r.deployment) }
        return result
    }

    /// Two refusals of parts of one admission as one: the soonest retry, the counts added.
    static func combine(_ a: Refusal, _ b: Refusal) -> Refusal {
        let limited = a.atRequestLimit + a.atTokenLimit + b.atRequestLimit + b.atTokenLimit > 0
        return Refusal(
            reason: limited ? .rateLimited : .coolingDown, retryAfter: min(a.retryAfter, b.retryAfter),
            atRequestLimit: a.atRequestLimit + b.atRequestLimit, atTokenLimit: a.atTokenLimit + b.atTokenLimit, cooling: a.cooling + b.cooling)
    }

    func withoutRedis(_ admission: Admission) -> AdmissionResult {
        health.answeredWithoutRedis()
        if options.failClosed { return .refused(Refusal(reason: .unavailable, retryAfter: 1)) }
        return fallback.decide(admission)
    }

    /// An admission's element of the batch script's reply as an answer; `nil` when it is not one.
    static func admission(_ value: RedisValue, candidates: ArraySlice<Int>, tokens: Int, stamp: UInt64) -> AdmissionResult? {
        if let index = value.int {
            guard index >= 0, index < candidates.count else { return nil }
            return .admitted(Reservation(deployment: candidates[candidates.startIndex + index], tokens: tokens, at: redisFlag | (stamp * 1000)))
        }
        let e = value.elements
        guard e.count >= 5, e[0].int == -1, let ms = e[1].int, let atR = e[2].int, let atT = e[3].int, let cooling = e[4].int else { return nil }
        return .refused(Refusal(
            reason: atR + atT > 0 ? .rateLimited : .coolingDown, retryAfter: ms < 0 ? 1 : Double(ms) / 1000,
            atRequestLimit: atR, atTokenLimit: atT, cooling: cooling))
    }

    static func brief(_ value: RedisValue) -> String {
        if case .error(let message) = value { return message }
        return String(String(describing: value).prefix(120))
    }
}
