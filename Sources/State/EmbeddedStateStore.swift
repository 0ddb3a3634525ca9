import NIOCore
import Synchronization

/// The state store of one process: every event loop of the worker shares it under one lock
/// (held for a few hundred nanoseconds per call). Used when no Redis is configured; limits then
/// hold for this process.
public final class EmbeddedStateStore: StateStore {
    struct Row {
        var limits: DeploymentLimits
        var requests: RequestWindow?
        var tokens = TokenWindow()
        /// Requests per second over the last minute (for the strategies; limits use `requests`).
        var requestCounts = TokenWindow()
        var inFlight = 0
        var failureMinute: UInt64 = 0
        var failuresThisMinute = 0
        var coolingUntil: UInt64 = 0
        var latency = 0.0
        var timeToFirstToken = 0.0
    }

    private let rows: Mutex<[Row]>
    /// Up to this rpm the request window is exact (a ring of admission times, 8 bytes each);
    /// above it, one-second buckets (at most a sixtieth over the limit at a boundary).
    static let exactRequestLimit = 10_000
    public let cooldown: CooldownPolicy
    /// A clock for tests; uptime nanoseconds by default.
    private let clock: @Sendable () -> UInt64

    public init(deployments: [DeploymentLimits], cooldown: CooldownPolicy, clock: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds }) {
        rows = Mutex(deployments.map { d in
            Row(limits: d, requests: d.rpm.flatMap { $0 <= Self.exactRequestLimit ? RequestWindow(limit: $0) : nil })
        })
        self.cooldown = cooldown
        self.clock = clock
    }

    public func admit(_ admission: Admission, completion: @escaping @Sendable (AdmissionResult) -> Void) {
        completion(decide(admission))
    }

    /// The embedded store answers at once.
    public func admitNow(_ admission: Admission) -> AdmissionResult? {
        decide(admission)
    }

    func decide(_ admission: Admission) -> AdmissionResult {
        let now = clock()
        return rows.withLock { rows -> AdmissionResult in
            var soonest = UInt64.max
            var refusal = Refusal(reason: .coolingDown, retryAfter: 0)
            for d in admission.candidates where rows.indices.contains(d) {
                if rows[d].coolingUntil > now {
                    refusal.cooling += 1
                    soonest = min(soonest, rows[d].coolingUntil - now)
                    continue
                }
                if admission.enforceLimits {
                    var wait: UInt64 = 0
                    if let requests = rows[d].requests {
                        if !requests.canAdmit(now: now) {
                            refusal.atRequestLimit += 1
                            wait = requests.wait(now: now)
                        }
                    } else if let rpm = rows[d].limits.rpm {
                        rows[d].requestCounts.advance(now: now)
                        let w = rows[d].requestCounts.wait(needed: 1, limit: rpm, now: now)
                        if w > 0 { refusal.atRequestLimit += 1 }
                        wait = max(wait, w)
                    }
                    if let tpm = rows[d].limits.tpm {
                        rows[d].tokens.advance(now: now)
                        let w = rows[d].tokens.wait(needed: admission.tokens, limit: tpm, now: now)
                        if w > 0 { refusal.atTokenLimit += 1 }
                        wait = max(wait, w)
                    }
                    if wait > 0 {
                        soonest = min(soonest, wait)
                        continue
                    }
                }
                rows[d].requests?.admit(now: now)
                rows[d].tokens.add(admission.tokens, at: now)
                rows[d].requestCounts.add(1, at: now)
                rows[d].inFlight += 1
                return .admitted(Reservation(deployment: d, tokens: admission.tokens, at: now))
            }
            refusal.reason = refusal.atRequestLimit + refusal.atTokenLimit > 0 ? .rateLimited : .coolingDown
            refusal.retryAfter = soonest == .max ? 1 : Double(soonest) / 1e9
            return .refused(refusal)
        }
    }

    public func settle(_ s: Settlement) {
        let now = clock()
        let d = s.reservation.deployment
        rows.withLock { rows in
            guard rows.indices.contains(d) else { return }
            rows[d].inFlight = max(0, rows[d].inFlight - 1)
            if let actual = s.actualTokens { rows[d].tokens.correct(actual - s.reservation.tokens, at: s.reservation.at) }
            switch s.outcome {
            case .success:
                if s.latencyMilliseconds > 0 { rows[d].latency = Self.average(rows[d].latency, s.latencyMilliseconds) }
                if s.timeToFirstTokenMilliseconds > 0 { rows[d].timeToFirstToken = Self.average(rows[d].timeToFirstToken, s.timeToFirstTokenMilliseconds) }
            case .failure(let cooldownNow, let retryAfter):
                let minute = now / 60_000_000_000
                if rows[d].failureMinute != minute {
                    rows[d].failureMinute = minute
                    rows[d].failuresThisMinute = 0
                }
                rows[d].failuresThisMinute += 1
                if cooldownNow || rows[d].failuresThisMinute > cooldown.allowedFails {
                    let seconds = max(cooldown.cooldownSeconds, retryAfter ?? 0)
                    rows[d].coolingUntil = max(rows[d].coolingUntil, now + UInt64(seconds * 1e9))
                    rows[d].failuresThisMinute = 0
                }
            case .neutral:
                break
            }
        }
    }

    public func loads(_ deployments: [Int]) -> [DeploymentLoad] {
        let now = clock()
        return rows.withLock { rows in deployments.map { Self.load(&rows, $0, now) } }
    }

    private static func load(_ rows: inout [Row], _ deployment: Int, _ now: UInt64) -> DeploymentLoad {
            guard rows.indices.contains(deployment) else { return DeploymentLoad() }
            rows[deployment].tokens.advance(now: now)
            rows[deployment].requestCounts.advance(now: now)
            let row = rows[deployment]
            var load = DeploymentLoad()
            load.inFlight = row.inFlight
            load.requestsThisMinute = row.requestCounts.total
            load.tokensThisMinute = row.tokens.total
            load.latencyMilliseconds = row.latency
            load.timeToFirstTokenMilliseconds = row.timeToFirstToken
            load.coolingDown = row.coolingUntil > now
            return load
    }

    static func average(_ old: Double, _ sample: Double) -> Double {
        old == 0 ? sample : old + 0.2 * (sample - old)
    }
}
