import Logging
import Metrics
import NIOCore
import OpenAIWire
import Providers
import Routing
import Synchronization
import State
import SwitchboardConfig
import Tokenizers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything a worker's request handlers share: the loaded configuration and what is derived
/// from it once at start (router, prepared deployments, auth key). Immutable but for the
/// readiness flag.
public final class GatewayContext: Sendable {
    public let config: GatewayConfig
    let router: ModelRouter
    /// Retries, fallbacks, cooldowns, limits: resolved once.
    let policy: RouterPolicy
    let ranking: CandidateRanking
    /// rpm/tpm windows, cooldowns, in-flight counts and latencies of every deployment.
    let store: any StateStore
    let registry: ProviderRegistry
    /// Every deployment by id: its row in the stats tables, and its plan prepared at start
    /// (`nil` for wildcard deployments, which are planned per model).
    let deployments: [String: PreparedDeployment]
    /// The plans prepared at start, by slot (`nil` for wildcard deployments).
    let plansBySlot: [Result<DeploymentPlan, OpenAIError>?]
    /// The cap on a buffered (non-streamed) upstream answer, in bytes.
    let maxUpstreamBodyBytes: Int
    let masterKey: [UInt8]?
    let logger: Logger
    let detailedDebug: Bool
    let maxBodyBytes: Int
    /// Seconds.
    let requestTimeout: Double
    /// Seconds.
    let streamTimeout: Double
    let dropParams: Bool
    /// Whether call records carry the request and answer bodies: only when a callback that
    /// logs them is configured, so other configs keep no body past its call.
    public let recordsBodies: Bool
    /// Callbacks that log the request and the answer.
    public static let callbacksLoggingBodies: Set<String> = ["generic_api", "langfuse", "langfuse_otel"]
    /// Metrics, docs and logs settings.
    public let observability: ObservabilitySettings
    /// This worker's slot of the shared metrics region.
    public let metricsSlot: MetricsSlot
    /// Label values of each deployment, by slot.
    let metricLabels: [DeploymentMetricLabels]
    let metricsGauges: MetricsGauges
    /// Custom tokenizers and OpenAI encodings (`/utils/token_counter`, tpm reservations).
    let tokenizers: TokenizerRegistry
    private let readiness = Atomic<Bool>(true)
    private let inFlightCalls = Atomic<Int>(0)
    /// The cap on open client connections of this worker.
    let maxConnections: Int
    private let openConnections = Atomic<Int>(0)
    private let capReported = Atomic<Bool>(false)

    /// - Parameters:
    ///   - environment: where provider default credentials come from.
    /// Seconds a client connection may sit idle between requests, or take to send one request,
    /// before the gateway closes it.
    let idleTimeout: Double

    public init(
        config: GatewayConfig, environment: [String: String], logger: Logger, detailedDebug: Bool = false,
        idleTimeout: Double = 120, maxUpstreamBodyBytes: Int = 64 << 20, maxConnections: Int? = nil,
        metricsSlot: MetricsSlot? = nil
    ) {
        self.maxConnections = maxConnections ?? Self.defaultMaxConnections
        self.config = config
        self.idleTimeout = idleTimeout
        self.maxUpstreamBodyBytes = maxUpstreamBodyBytes
        let router = ModelRouter(config: config)
        self.router = router
        let policy = RouterPolicy(config: config)
        self.policy = policy
        ranking = CandidateRanking(strategy: policy.strategy, latencyBuffer: policy.lowestLatencyBuffer)
        registry = ProviderRegistry(environment: environment)
        var deployments: [String: PreparedDeployment] = [:]
        for (slot, d) in router.deploymentsBySlot.enumerated() {
            guard !d.params.model.contains("*") else {
                deployments[d.id] = PreparedDeployment(slot: slot, plan: nil)
                continue
            }
            do throws(OpenAIError) {
                let plan = try registry.plan(d, model: d.params.model)
                for w in plan.warnings { logger.warning("deployment \(d.modelName) (\(d.params.model)): \(w)") }
                deployments[d.id] = PreparedDeployment(slot: slot, plan: .success(plan))
            } catch {
                deployments[d.id] = PreparedDeployment(slot: slot, plan: .failure(error))
                // Unset variables were already warned about, once each, with the config's warnings.
                if d.missingVariables.isEmpty {
                    logger.warning("deployment \(d.modelName) (\(d.params.model)) cannot serve requests: \(error.message)")
                }
            }
        }
        self.deployments = deployments
        plansBySlot = router.deploymentsBySlot.map { deployments[$0.id]?.plan ?? nil }
        masterKey = config.generalSettings.masterKey.map { Array($0.utf8) }
        self.logger = logger
        self.detailedDebug = detailedDebug
        maxBodyBytes = config.generalSettings.maxRequestBodyBytes
        let requestTimeout = config.routerSettings.timeout ?? config.litellmSettings.requestTimeout ?? 600
        self.requestTimeout = requestTimeout
        streamTimeout = config.routerSettings.streamTimeout ?? requestTimeout
        dropParams = config.litellmSettings.dropParams
        store = GatewayContext.makeStore(config: config, router: router, policy: policy, logger: logger)
        let l = config.litellmSettings
        recordsBodies = !Set(l.successCallback + l.failureCallback + l.callbacks).isDisjoint(with: Self.callbacksLoggingBodies)
        observability = ObservabilitySettings(config: config, environment: environment)
        let slot = metricsSlot ?? Self.privateMetricsSlot(logger: logger)
        self.metricsSlot = slot
        let labels = router.deploymentsBySlot.map(DeploymentMetricLabels.init)
        metricLabels = labels
        tokenizers = TokenizerRegistry(
            deployments: router.deploymentsBySlot, settings: TokenizerSettings(environment: environment), logger: logger)
        metricsGauges = MetricsGauges(
            slot: slot, labels: labels, limits: router.deploymentsBySlot.map { ($0.params.rpm, $0.params.tpm) }, store: store)
    }

    /// A region of one slot for a process with no supervisor (a worker alone, tests).
    static func privateMetricsSlot(logger: Logger) -> MetricsSlot {
        do {
            return MetricsSlot(region: try MetricsRegion.create(slots: 1, seriesPerSlot: 4096), index: 0, owner: getpid())
        } catch {
            logger.critical("\(error)")
            fatalError("\(error)")
        }
    }

    /// Whether `/health/readiness` answers 200 (false while draining).
    public var isReady: Bool {
        get { readiness.load(ordering: .relaxed) }
        set { readiness.store(newValue, ordering: .relaxed) }
    }

    /// Model calls being answered right now, across all event loops.
    public var inFlight: Int { inFlightCalls.load(ordering: .relaxed) }

    /// Half the process's file-descriptor limit (each call also needs an upstream connection).
    static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 65_536 }
        return max(16, Int(min(limit.rlim_cur, 1 << 30)) / 2)
    }

    /// Counts a new client connection; `false` (and one log line until the count falls
    /// back) when the cap is reached and the connection must be refused.
    func connectionOpened() -> Bool {
        let open = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        guard open > maxConnections else { return true }
        openConnections.wrappingSubtract(1, ordering: .relaxed)
        if !capReported.exchange(true, ordering: .relaxed) {
            logger.warning("client connection refused: \(maxConnections) connections are open (SWITCHBOARD_MAX_CONNECTIONS); refusing new ones with 503 until some close")
        }
        return false
    }

    func connectionClosed() {
        let open = openConnections.wrappingSubtract(1, ordering: .relaxed).newValue
        if open < maxConnections - maxConnections / 10, capReported.load(ordering: .relaxed) {
            capReported.store(false, ordering: .relaxed)
        }
    }

    /// Client connections open now.
    public var openClientConnections: Int { openConnections.load(ordering: .relaxed) }

    func callStarted() { inFlightCalls.add(1, ordering: .relaxed) }
    func callEnded() { inFlightCalls.subtract(1, ordering: .relaxed) }

    /// The plan for a routed deployment.
    func plan(for routed: RoutedDeployment) throws(OpenAIError) -> DeploymentPlan {
        // By slot: an array read, no hashing of the id. Wildcard picks are planned per model.
        if routed.slot < plansBySlot.count, let cached = plansBySlot[routed.slot], routed.isConfiguredModel {
            return try cached.get()
        }
        return try registry.plan(routed.deployment, model: routed.model)
    }
}

/// A deployment as prepared at start.
struct PreparedDeployment: Sendable {
    /// Its row in each loop's ``DeploymentStatsTable``.
    let slot: Int
    /// `nil` for wildcard deployments (planned per requested model).
    let plan: Result<DeploymentPlan, OpenAIError>?
}
