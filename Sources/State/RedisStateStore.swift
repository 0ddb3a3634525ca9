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
    private let cache: Mutex<[DeploymentLoad]>
    private let refreshing = Atomic<Bool>(false)
    private let refreshInFlight = Atomic<Bool>(false)

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
        let candidates = admission.candidates.filter { limits.indices.contains($0) }
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
        var (keyArgs, args) = RedisSettlementQueue.arguments(pendingSettlements.take(slot: slot ?? RedisSettlementQueue.anySlot))
        args += [String(admission.tokens), admission.enforceLimits ? "1" : "0", nonce, String(Int(options.leaseSeconds * 1000))]
        for d in run {
            let k = keys[d]
            keyArgs += [k.requests, k.usage, k.cooldown, k.leases]
            args += [String(limits[d].rpm ?? -1), String(limits[d].tpm ?? -1)]
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

    private func withoutRedis(_ admission: Admission) -> AdmissionResult {
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

    // MARK: Settle

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
        let entry = RedisSettlementQueue.Entry(keys: [k.usage, k.cooldown, k.leases, k.failures, k.latency], args: args)
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

    // MARK: Loads

    /// The shared loads as last read (at most `refreshInterval` old); this worker's own view
    /// while Redis is not answering.
    public func loads(_ deployments: [Int]) -> [DeploymentLoad] {
        guard health.isAnswering else { return fallback.loads(deployments) }
        return cache.withLock { cache in deployments.map { cache.indices.contains($0) ? cache[$0] : DeploymentLoad() } }
    }

    /// Starts the background refresh of the loads on the caller's event loop (once; a no-op
    /// off an event loop).
    func startRefreshing() {
        guard !refreshing.load(ordering: .relaxed), let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return }
        startRefreshing(on: loop)
    }

    /// Starts the background refresh of the loads on `loop` (once).
    public func startRefreshing(on loop: any EventLoop) {
        guard !limits.isEmpty, !refreshing.exchange(true, ordering: .relaxed) else { return }
        loop.scheduleRepeatedTask(initialDelay: .zero, delay: options.refreshInterval) { [weak self] task in
            guard let self else {
                task.cancel()
                return
            }
            self.refresh()
        }
    }

    private func refresh() {
        guard client.isAvailable, !refreshInFlight.exchange(true, ordering: .relaxed) else { return }
        // One script call for all deployments; in a cluster one per slot, pipelined.
        var groups: [[Int]] = [Array(limits.indices)]
        if !slots.isEmpty {
            var bySlot: [Int: [Int]] = [:]
            for d in limits.indices { bySlot[slots[d], default: []].append(d) }
            groups = Array(bySlot.values)
        }
        let gathered = RedisLoadsGathering(parts: groups.count, count: limits.count)
        for group in groups {
            let keyArgs = group.flatMap { [keys[$0].usage, keys[$0].cooldown, keys[$0].leases, keys[$0].latency] }
            client.evaluate(RedisScripts.loads, keys: keyArgs, args: [], slot: slots.isEmpty ? nil : slots[group[0]]) { [self] result in
                var loads: [DeploymentLoad]?
                if case .success(let value) = result, case .array(let rows) = value, rows.count == group.count {
                    loads = rows.map(Self.load)
                }
                guard let all = gathered.add(loads, for: group) else { return }
                refreshInFlight.store(false, ordering: .relaxed)
                if let all { cache.withLock { $0 = all } }
            }
        }
    }

    /// One deployment's row of the loads script.
    static func load(_ row: RedisValue) -> DeploymentLoad {
        let f = row.elements
        var load = DeploymentLoad()
        guard f.count == 6 else { return load }
        load.inFlight = f[0].int ?? 0
        load.requestsThisMinute = f[1].int ?? 0
        load.tokensThisMinute = f[2].int ?? 0
        load.latencyMilliseconds = f[3].double ?? 0
        load.timeToFirstTokenMilliseconds = f[4].double ?? 0
        load.coolingDown = (f[5].int ?? 0) > 0
        return load
    }
}

/// The loads of one refresh, gathered from its script calls (one per cluster slot).
final class RedisLoadsGathering: Sendable {
    private let state: Mutex<(left: Int, failed: Bool, loads: [DeploymentLoad])>

    init(parts: Int, count: Int) {
        state = Mutex((parts, false, Array(repeating: DeploymentLoad(), count: count)))
    }

    /// Adds one call's loads (`nil`: it failed); when it was the last, returns `.some` of all
    /// the loads (`.some(nil)` when a call failed), else `nil`.
    func add(_ loads: [DeploymentLoad]?, for deployments: [Int]) -> [DeploymentLoad]?? {
        state.withLock { s in
            if let loads {
                for (i, d) in deployments.enumerated() { s.loads[d] = loads[i] }
            } else {
                s.failed = true
            }
            s.left -= 1
            guard s.left == 0 else { return nil }
            return .some(s.failed ? nil : s.loads)
        }
    }
}
