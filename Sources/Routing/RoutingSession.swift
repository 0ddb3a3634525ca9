import CallModel

/// One call's way through the router: which model group it is in, how many retries that group
/// has left, which fallback groups remain, and which deployments already failed. Pure: the
/// server asks it what follows each failed attempt.
///
/// ```swift
/// var session = RoutingSession(group: group, policy: policy, retries: 2, requestFallbacks: nil)
/// switch session.next(after: failure, deployment: slot, resolve: router.resolve) {
/// case .retry(let delay): ...      // same group, another pick (delay in seconds)
/// case .fallback(let group): ...   // the next fallback group, with its own retries
/// case .giveUp: ...                // answer the failure
/// }
/// ```
public struct RoutingSession: Sendable {
    public enum Decision: Sendable {
        /// Pick again in the current group after `delay` seconds.
        case retry(delay: Double)
        /// Move to this fallback group.
        case fallback(ModelGroup)
        /// Answer the failure.
        case giveUp
    }

    public private(set) var group: ModelGroup
    /// Retries made so far (all groups).
    public private(set) var retries = 0
    /// Fallback groups moved to so far.
    public private(set) var fallbacks = 0
    /// Deployment slots that failed in the current group.
    public private(set) var failedInGroup: [Int] = []
    private let retriesPerGroup: Int
    private var retriesLeft: Int
    private let policy: RouterPolicy
    /// The request's own `fallbacks` (overriding the config's general list).
    private let requestFallbacks: [String]?
    /// Fallback groups still to try, once a fallback list was chosen.
    private var queue: [String]?
    /// The group the call started in, and the fallback groups used since (never tried twice;
    /// kept apart so the common call allocates no list).
    private let firstGroup: String
    private var visited: [String] = []

    public init(group: ModelGroup, policy: RouterPolicy, retries: Int? = nil, requestFallbacks: [String]? = nil) {
        self.group = group
        self.policy = policy
        retriesPerGroup = max(0, retries ?? policy.numRetries)
        retriesLeft = retriesPerGroup
        self.requestFallbacks = requestFallbacks
        firstGroup = group.name
    }

    /// What follows `failure` of an attempt on `deployment` (a slot). `resolve` maps a fallback
    /// model name to its group.
    public mutating func next(
        after failure: UpstreamFailure, deployment: Int?, resolve: (String) -> ModelGroup?
    ) -> Decision {
        if let deployment, !failedInGroup.contains(deployment) { failedInGroup.append(deployment) }
        guard let kind = failure.fallback else { return .giveUp }
        if failure.isRetryable && kind == .general && retriesLeft > 0 {
            retriesLeft -= 1
            retries += 1
            return .retry(delay: delay(after: failure))
        }
        if queue == nil {
            if kind == .general, let requestFallbacks {
                queue = requestFallbacks
            } else {
                queue = policy.fallbackGroups(for: group.name, kind: kind)
            }
        }
        while var q = queue, !q.isEmpty {
            let name = q.removeFirst()
            queue = q
            guard name != firstGroup, !visited.contains(name), let next = resolve(name) else { continue }
            visited.append(name)
            group = next
            fallbacks += 1
            retriesLeft = retriesPerGroup
            failedInGroup = []
            return .fallback(next)
        }
        return .giveUp
    }

    /// No wait when another deployment of the group can be tried; else the upstream's
    /// Retry-After, or `retry_after`, or a short exponential backoff.
    func delay(after failure: UpstreamFailure) -> Double {
        let untried = group.slots.contains { !failedInGroup.contains($0) }
        if untried { return 0 }
        var retryAfter: Double?
        if case .status(let s) = failure { retryAfter = s.retryAfter }
        if case .noDeploymentAvailable(_, let after) = failure { retryAfter = after }
        let backoff = min(0.1 * Double(1 << min(retries, 6)), 5)
        return max(policy.retryAfterFloor, retryAfter ?? backoff)
    }
}
