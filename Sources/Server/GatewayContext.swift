import Logging
import NIOCore
import OpenAIWire
import Providers
import Routing
import Synchronization
import SwitchboardConfig

/// Everything a worker's request handlers share: the loaded configuration and what is derived
/// from it once at start (router, prepared deployments, auth key). Immutable but for the
/// readiness flag.
public final class GatewayContext: Sendable {
    public let config: GatewayConfig
    let router: ModelRouter
    let registry: ProviderRegistry
    /// Prepared deployments by id (not for wildcard deployments, which are planned per model).
    let plans: [String: Result<DeploymentPlan, OpenAIError>]
    let masterKey: [UInt8]?
    let logger: Logger
    let detailedDebug: Bool
    let maxBodyBytes: Int
    /// Seconds.
    let requestTimeout: Double
    /// Seconds.
    let streamTimeout: Double
    let dropParams: Bool
    private let readiness = Atomic<Bool>(true)
    private let inFlightCalls = Atomic<Int>(0)

    /// - Parameters:
    ///   - environment: where provider default credentials come from.
    /// Seconds a client connection may sit idle between requests, or take to send one request,
    /// before the gateway closes it.
    let idleTimeout: Double

    public init(
        config: GatewayConfig, environment: [String: String], logger: Logger, detailedDebug: Bool = false,
        idleTimeout: Double = 120
    ) {
        self.config = config
        self.idleTimeout = idleTimeout
        router = ModelRouter(config: config)
        registry = ProviderRegistry(environment: environment)
        var plans: [String: Result<DeploymentPlan, OpenAIError>] = [:]
        for d in config.deployments where !d.params.model.contains("*") {
            do throws(OpenAIError) {
                let plan = try registry.plan(d, model: d.params.model)
                for w in plan.warnings { logger.warning("deployment \(d.modelName) (\(d.params.model)): \(w)") }
                plans[d.id] = .success(plan)
            } catch {
                plans[d.id] = .failure(error)
                // Unset variables were already warned about, once each, with the config's warnings.
                if d.missingVariables.isEmpty {
                    logger.warning("deployment \(d.modelName) (\(d.params.model)) cannot serve requests: \(error.message)")
                }
            }
        }
        self.plans = plans
        masterKey = config.generalSettings.masterKey.map { Array($0.utf8) }
        self.logger = logger
        self.detailedDebug = detailedDebug
        maxBodyBytes = config.generalSettings.maxRequestBodyBytes
        requestTimeout = config.routerSettings.timeout ?? config.litellmSettings.requestTimeout ?? 600
        streamTimeout = config.routerSettings.streamTimeout ?? requestTimeout
        dropParams = config.litellmSettings.dropParams
    }

    /// Whether `/health/readiness` answers 200 (false while draining).
    public var isReady: Bool {
        get { readiness.load(ordering: .relaxed) }
        set { readiness.store(newValue, ordering: .relaxed) }
    }

    /// Model calls being answered right now, across all event loops.
    public var inFlight: Int { inFlightCalls.load(ordering: .relaxed) }

    func callStarted() { inFlightCalls.add(1, ordering: .relaxed) }
    func callEnded() { inFlightCalls.subtract(1, ordering: .relaxed) }

    /// The plan for a routed deployment.
    func plan(for routed: RoutedDeployment) throws(OpenAIError) -> DeploymentPlan {
        if routed.model == routed.deployment.params.model, let cached = plans[routed.deployment.id] {
            return try cached.get()
        }
        return try registry.plan(routed.deployment, model: routed.model)
    }
}
