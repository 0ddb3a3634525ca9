import NIOCore

/// Where a deployment's shared routing state lives: request and token windows (rpm/tpm),
/// cooldowns, in-flight counts and latency averages. One store per worker; the embedded store
/// keeps it in this process, the Redis store (issue 9) for the whole cluster.
///
/// A call costs at most one store round trip before its upstream call (``admit(_:completion:)``
/// picks the first candidate that is not cooling down and whose limits can take the request,
/// and reserves there) and one after (``settle(_:)``). `admit` may complete later on the
/// caller's event loop (a Redis answer); the embedded store completes at once.
public protocol StateStore: AnyObject, Sendable {
    /// Reserves capacity on the first admissible candidate, in the order given.
    func admit(_ admission: Admission, completion: @escaping @Sendable (AdmissionResult) -> Void)

    /// The answer at once when the store can give it without waiting (the embedded store
    /// always can); `nil` when the caller must use ``admit(_:completion:)``.
    func admitNow(_ admission: Admission) -> AdmissionResult?

    /// Settles a reservation: real tokens replace the estimate, in-flight is released, the
    /// outcome feeds cooldowns and latency averages.
    func settle(_ settlement: Settlement)

    /// What the strategies read of these deployments now (may be a cached view), in order.
    func loads(_ deployments: [Int]) -> [DeploymentLoad]
}

/// What a deployment allows, by its position among the config's deployments.
public struct DeploymentLimits: Sendable, Equatable {
    /// `model_info.id`: the key shared with other workers.
    public var id: String
    /// Requests per 60-second window; `nil`: unlimited.
    public var rpm: Int?
    /// Tokens per 60-second window; `nil`: unlimited.
    public var tpm: Int?

    public init(id: String, rpm: Int?, tpm: Int?) {
        self.id = id
        self.rpm = rpm
        self.tpm = tpm
    }
}

/// A request for capacity.
public struct Admission: Sendable {
    /// Deployment positions, in the order the strategy prefers them.
    public var candidates: [Int]
    /// Tokens reserved against tpm (prompt estimate + `max_tokens`).
    public var tokens: Int
    /// Whether rpm/tpm are enforced (else they only weigh the picks).
    public var enforceLimits: Bool

    public init(candidates: [Int], tokens: Int, enforceLimits: Bool) {
        self.candidates = candidates
        self.tokens = tokens
        self.enforceLimits = enforceLimits
    }
}

/// The answer to an ``Admission``.
public enum AdmissionResult: Sendable, Equatable {
    /// Capacity reserved on this deployment.
    case admitted(Reservation)
    /// No candidate could take the request: why, and when one could.
    case refused(Refusal)
}

/// Capacity held on one deployment until it is settled.
public struct Reservation: Sendable, Equatable {
    public var deployment: Int
    public var tokens: Int
    /// Uptime nanoseconds of the admission (the window slot the reservation went into).
    public var at: UInt64

    public init(deployment: Int, tokens: Int, at: UInt64) {
        self.deployment = deployment
        self.tokens = tokens
        self.at = at
    }
}

/// Why no candidate was admitted.
public struct Refusal: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// Every candidate is cooling down after failures.
        case coolingDown = "cooling_down"
        /// Every candidate is at its rpm or tpm limit.
        case rateLimited = "rate_limited"
        /// The store could not be asked in time (Redis down): the caller decides.
        case unavailable
    }
    public var reason: Reason
    /// Seconds until the soonest candidate could take the request.
    public var retryAfter: Double
    /// Candidates at their rpm limit, at their tpm limit, cooling down.
    public var atRequestLimit: Int
    public var atTokenLimit: Int
    public var cooling: Int

    public init(reason: Reason, retryAfter: Double, atRequestLimit: Int = 0, atTokenLimit: Int = 0, cooling: Int = 0) {
        self.reason = reason
        self.retryAfter = retryAfter
        self.atRequestLimit = atRequestLimit
        self.atTokenLimit = atTokenLimit
        self.cooling = cooling
    }
}

/// The end of an attempt, for the store.
public struct Settlement: Sendable {
    public enum Outcome: Sendable, Equatable {
        case success
        /// A failure that counts against the deployment; `cooldownNow` (a 429, or the policy)
        /// cools it at once; `retryAfter` lengthens the cooldown.
        case failure(cooldownNow: Bool, retryAfter: Double?)
        /// Ended without the deployment being at fault (client gone, bad request).
        case neutral
    }
    public var reservation: Reservation
    /// Tokens really used (`nil`: keep the estimate).
    public var actualTokens: Int?
    public var outcome: Outcome
    /// Milliseconds of a successful plain answer (0: none).
    public var latencyMilliseconds: Double
    /// Milliseconds to a stream's first event (0: none).
    public var timeToFirstTokenMilliseconds: Double

    public init(reservation: Reservation, actualTokens: Int?, outcome: Outcome, latencyMilliseconds: Double = 0, timeToFirstTokenMilliseconds: Double = 0) {
        self.reservation = reservation
        self.actualTokens = actualTokens
        self.outcome = outcome
        self.latencyMilliseconds = latencyMilliseconds
        self.timeToFirstTokenMilliseconds = timeToFirstTokenMilliseconds
    }
}

/// A deployment's load as the strategies see it.
public struct DeploymentLoad: Sendable, Equatable {
    public var inFlight = 0
    public var requestsThisMinute = 0
    public var tokensThisMinute = 0
    /// Moving averages in milliseconds (0: no sample yet).
    public var latencyMilliseconds = 0.0
    public var timeToFirstTokenMilliseconds = 0.0
    public var coolingDown = false

    public init() {}
}

/// How the store treats failures (LiteLLM's `allowed_fails`, `cooldown_time`).
public struct CooldownPolicy: Sendable, Equatable {
    /// Failures allowed in the current minute; one more cools the deployment.
    public var allowedFails: Int
    /// Seconds a deployment cools down (at least the upstream's Retry-After).
    public var cooldownSeconds: Double

    public init(allowedFails: Int = 3, cooldownSeconds: Double = 5) {
        self.allowedFails = allowedFails
        self.cooldownSeconds = cooldownSeconds
    }
}
