import CallModel
import OpenAIWire
import State
import SwitchboardConfig

/// The router's settings, resolved once from `router_settings` and `litellm_settings` (router
/// settings win for the same key). A class: every call's ``RoutingSession`` holds it, and a
/// reference costs one retain where a struct of dictionaries would cost one per member.
public final class RouterPolicy: Sendable {
    public let strategy: RoutingStrategy
    /// Retries in each model group (the first try not counted).
    public let numRetries: Int
    /// rpm/tpm enforced (default) or only used as weights.
    public let enforceLimits: Bool
    /// `enable_pre_call_checks`: skip deployments whose context window is too small for the prompt.
    public let preCallChecks: Bool
    public let cooldown: CooldownPolicy
    public let cooldownsEnabled: Bool
    /// Failures allowed per failure kind before a cooldown (`allowed_fails_policy`).
    public let allowedFailsByKind: [String: Int]
    /// Seconds waited before a retry on the same deployment when the upstream gave no Retry-After.
    public let retryAfterFloor: Double
    public let fallbacks: [String: [String]]
    public let contextWindowFallbacks: [String: [String]]
    public let contentPolicyFallbacks: [String: [String]]
    public let defaultFallbacks: [String]
    /// latency-based-routing: picks within this fraction of the best latency count as equal.
    public let lowestLatencyBuffer: Double

    public init(config: GatewayConfig) {
        let r = config.routerSettings
        let l = config.litellmSettings
        strategy = RoutingStrategy(rawValue: r.routingStrategy) ?? .simpleShuffle
        numRetries = r.numRetries ?? l.numRetries ?? 2
        enforceLimits = r.enforceModelRateLimits
        preCallChecks = r.enablePreCallChecks
        cooldown = CooldownPolicy(allowedFails: r.allowedFails ?? l.allowedFails ?? 3, cooldownSeconds: r.cooldownTime ?? l.cooldownTime ?? 5)
        cooldownsEnabled = !r.disableCooldowns
        allowedFailsByKind = r.allowedFailsPolicy
        retryAfterFloor = r.retryAfter ?? 0
        func rules(_ list: [FallbackRule]) -> [String: [String]] {
            var out: [String: [String]] = [:]
            for rule in list { out[rule.modelGroup, default: []] += rule.fallbacks }
            return out
        }
        fallbacks = rules(r.fallbacks.isEmpty ? l.fallbacks : r.fallbacks)
        contextWindowFallbacks = rules(r.contextWindowFallbacks.isEmpty ? l.contextWindowFallbacks : r.contextWindowFallbacks)
        contentPolicyFallbacks = rules(r.contentPolicyFallbacks.isEmpty ? l.contentPolicyFallbacks : r.contentPolicyFallbacks)
        defaultFallbacks = r.defaultFallbacks.isEmpty ? l.defaultFallbacks : r.defaultFallbacks
        lowestLatencyBuffer = r.routingStrategyArgs.first(where: { $0.key == "lowest_latency_buffer" })?.value.doubleValue ?? 0
    }

    /// The fallback groups for `group` after `kind` of failure (the general list, else the defaults).
    public func fallbackGroups(for group: String, kind: FallbackKind) -> [String] {
        switch kind {
        case .contextWindow:
            if let list = contextWindowFallbacks[group] { return list }
        case .contentPolicy:
            if let list = contentPolicyFallbacks[group] { return list }
        case .general:
            break
        }
        return fallbacks[group] ?? fallbacks["*"] ?? defaultFallbacks
    }

    /// Whether `failure` cools its deployment at once: a 429, or a kind whose
    /// `allowed_fails_policy` allows none.
    public func coolsAtOnce(_ failure: UpstreamFailure) -> Bool {
        if case .status(let s) = failure, s.kind == .rateLimit { return true }
        if let allowed = allowedFailsByKind[Self.policyKey(failure)] { return allowed == 0 }
        return false
    }

    /// LiteLLM's `allowed_fails_policy` key for a failure.
    static func policyKey(_ failure: UpstreamFailure) -> String {
        switch failure {
        case .timeout, .streamSilence: return "TimeoutErrorAllowedFails"
        case .status(let s):
            switch s.kind {
            case .rateLimit: return "RateLimitErrorAllowedFails"
            case .authentication: return "AuthenticationErrorAllowedFails"
            case .contentPolicy: return "ContentPolicyViolationErrorAllowedFails"
            case .badRequest, .contextWindowExceeded, .notFound: return "BadRequestErrorAllowedFails"
            case .serverError, .other: return "InternalServerErrorAllowedFails"
            }
        default: return "InternalServerErrorAllowedFails"
        }
    }
}

/// `router_settings.routing_strategy`.
public enum RoutingStrategy: String, Sendable {
    case simpleShuffle = "simple-shuffle"
    case leastBusy = "least-busy"
    case usageBased = "usage-based-routing"
    case usageBasedV2 = "usage-based-routing-v2"
    case latencyBased = "latency-based-routing"
    case costBased = "cost-based-routing"
}
