import Logging
import NIOCore
import NIOPosix
import RedisClient
import Synchronization

/// The state store of a cluster: every worker of every pod that points at the same Redis shares
/// one set of rpm/tpm windows, cooldowns, in-flight leases and latency averages.
///
/// An admission is one `EVALSHA` of ``RedisScripts/admit`` (all candidates, in order, decided
/// atomically on the server clock); a settlement is one `EVALSHA` of ``RedisScripts/settle``,
/// sent without waiting. ``loads(_:)`` reads a cache refreshed every `refreshInterval` by one
/// pipelined script call. When Redis does not answer within the client's deadline (or its
/// circuit breaker is open) the store answers from an ``EmbeddedStateStore`` (fail open, the
/// default) or refuses with ``Refusal/Reason/unavailable`` (fail closed), and goes back to
/// Redis as soon as it answers.
public final class RedisStateStore: StateStore {
    /// How the store behaves beyond the Redis connection.
    public struct Options: Sendable {
        /// Refuse admissions while Redis is down instead of falling back to per-worker limits.
        public var failClosed: Bool
        /// How long an in-flight lease lives when its worker never settles it (a crash).
        public var leaseSeconds: Double
        /// How often the shared loads are read for the strategies.
        public var refreshInterval: TimeAmount

        /// How long a settlement made on an event loop waits for an admission (same Redis
        /// Cluster slot) to carry it in its script call before it is sent on its own, together
        /// with the others waiting. Failures are sent at once (cooldowns must not wait).
        public var settleDelay: TimeAmount

        public init(failClosed: Bool = false, leaseSeconds: Double = 630, refreshInterval: TimeAmount = .milliseconds(50), settleDelay: TimeAmount = .milliseconds(2)) {
            self.failClosed = failClosed
            self.settleDelay = settleDelay
            self.leaseSeconds = leaseSeconds
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
    /// Settlements waiting for an admission to carry them.
    let pendingSettlements = RedisSettlementQueue()
    /// Tells this worker's leases and window entries apart from other workers'.
    let nonce: String
    /// Each deployment's rpm and tpm as the admit script's arguments (`-1`: none), built once.
    let limitArgs: [(rpm: String, tpm: String)]
    /// The lease length in milliseconds, as the admit script's argument.
    let leaseMilliseconds: String
    let cache: Mutex<[DeploymentLoad]>
    let refreshing = Atomic<Bool>(false)
    let refreshInFlight = Atomic<Bool>(false)

    public init(deployments: [DeploymentLimits], cooldown: CooldownPolicy, client: RedisClient, options: Options = Options(), logger: Logger) {
        self.client = client
        client.preload([RedisScripts.admit, RedisScripts.settle, RedisScripts.loads])
        self.options = options
        limits = deployments
        keys = deployments.map { RedisKeys(id: $0.id) }
        slots = client.isCluster ? keys.map { RedisClusterSlot.of(key: $0.usage) } : []
        self.cooldown = cooldown
        fallback = EmbeddedStateStore(deployments: deployments, cooldown: cooldown)
        health = RedisHealth(logger: logger, server: client.configuration.description, failClosed: options.failClosed)
        nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        limitArgs = deployments.map { (String($0.rpm ?? -1), String($0.tpm ?? -1)) }
        leaseMilliseconds = String(Int(options.leaseSeconds * 1000))
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
        return withoutRedis(admission)
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
        admit(runs[...], admission: admission, refused: nil, completion: completion)
    }

    /// Tries the first run; on a refusal the next, adding up the refusals.
    private func admit(_ runs: ArraySlice<ArraySlice<Int>>, admission: Admission, refused: Refusal?, completion: @escaping @Sendable (AdmissionResult) -> Void) {
        guard let run = runs.first else {
            completion(.refused(refused ?? Refusal(reason: .coolingDown, retryAfter: 1)))
            return
        }
        let slot = slots.isEmpty ? nil : slots[run[run.startIndex]]
        // The settlements waiting for this slot go first: the script applies them, then decides.
        var (keyArgs, args) = RedisSettlementQueue.arguments(
            pendingSettlements.take(slot: slot ?? RedisSettlementQueue.anySlot), extraKeys: 4 * run.count, extraArgs: 4 + 2 * run.count)
        args.append(String(admission.tokens))
        args.append(admission.enforceLimits ? "1" : "0")
        args.append(nonce)
        args.append(leaseMilliseconds)
        for d in run {
            keyArgs += keys[d].admitKeys
            args.append(limitArgs[d].rpm)
            args.append(limitArgs[d].tpm)
        }
        let tokens = admission.tokens
        let candidates = Array(run)
        client.evaluate(RedisScripts.admit, keys: keyArgs, args: args, slot: slot) { [self] result in
            switch result {
            case .success(let value):
                switch Self.admission(value, slots: candidates, tokens: tokens) {
                case .admitted(let reservation)?:
                    health.answered()
                    completion(.admitted(reservation))
                case .refused(let refusal)?:
                    health.answered()
                    admit(runs.dropFirst(), admission: admission, refused: refused.map { Self.combine($0, refusal) } ?? refusal, completion: completion)
                case nil:
                    health.failed("unexpected reply to the admit script: \(Self.brief(value))")
                    completion(withoutRedis(admission))
                }
            case .failure(let error):
                health.failed(error.description)
                completion(withoutRedis(admission))
            }
        }
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

    /// The admit script's reply as an answer; `nil` when it is not one.
    static func admission(_ value: RedisValue, slots: [Int], tokens: Int) -> AdmissionResult? {
        let e = value.elements
        guard e.count >= 2, let index = e[0].int else { return nil }
        if index >= 0 {
            guard index < slots.count, let stamp = e[1].text.flatMap(UInt64.init) else { return nil }
            return .admitted(Reservation(deployment: slots[index], tokens: tokens, at: redisFlag | (stamp * 1000)))
        }
        guard e.count >= 5, let ms = e[1].int, let atR = e[2].int, let atT = e[3].int, let cooling = e[4].int else { return nil }
        return .refused(Refusal(
            reason: atR + atT > 0 ? .rateLimited : .coolingDown, retryAfter: ms < 0 ? 1 : Double(ms) / 1000,
            atRequestLimit: atR, atTokenLimit: atT, cooling: cooling))
    }

    static func brief(_ value: RedisValue) -> String {
        if case .error(let message) = value { return message }
        return String(String(describing: value).prefix(120))
    }
}
