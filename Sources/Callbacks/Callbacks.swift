import CallModel
import Logging
import Metrics
import NIOCore
import SwitchboardConfig

/// The callbacks and alerts a config asks for, made once per worker: their record sinks (shared
/// by all event loops; each only queues), their monitors, and their senders (started here,
/// flushed on stop).
///
/// ```swift
/// let callbacks = Callbacks(config: config, environment: env, group: group, logger: logger)
/// let server = GatewayServer(gateway: gateway, group: group, sinks: { _ in callbacks.sinks }, monitors: callbacks.monitors)
/// ```
public final class Callbacks: Sendable {
    private let shared: [any CallRecordSink & Sendable]
    /// The sinks, for every event loop (they only queue, under their own locks).
    public var sinks: [any CallRecordSink] { shared }
    /// Watchers of open calls and deployment health (Slack alerts).
    public let monitors: [any GatewayMonitor]
    let stoppables: [@Sendable () async -> Void]
    /// Per callback name: events dropped because its queue was full, and delivered.
    let counters: [(name: String, dropped: @Sendable () -> Int, sent: @Sendable () -> Int)]

    /// Callback names acted on; other LiteLLM names are accepted with a warning.
    public static let supported: Set<String> = ["generic_api", "otel", "langfuse", "langfuse_otel"]

    /// - Parameters:
    ///   - metrics: where `litellm_callback_dropped_events_metric` is counted (absent: only logged).
    ///   - sharedClaims: the cluster-wide incident claims for alert deduplication (Redis).
    public init(
        config: GatewayConfig, environment: [String: String], group: any EventLoopGroup, logger: Logger,
        metrics: MetricsSlot? = nil, sharedClaims: (any SharedClaims)? = nil
    ) {
        let l = config.litellmSettings
        let both = Set(l.callbacks)
        let onSuccess = both.union(l.successCallback)
        let onFailure = both.union(l.failureCallback)
        let named = onSuccess.union(onFailure)
        let directory = DeploymentDirectory(config: config)
        let client = WebhookClient(group: group)
        let interval = Double(environment["DEFAULT_FLUSH_INTERVAL_SECONDS"] ?? "").flatMap { $0 > 0 ? $0 : nil }
        var sinks: [any CallRecordSink & Sendable] = []
        var stoppables: [@Sendable () async -> Void] = []
        var counters: [(name: String, dropped: @Sendable () -> Int, sent: @Sendable () -> Int)] = []
        var monitors: [any GatewayMonitor] = []
        for name in named.sorted() where !Self.supported.contains(name) && name != "prometheus" {
            logger.warning("config: callback '\(name)' is not supported by this Switchboard build; its events are not sent")
        }

        // Slack first: the other senders report their failures to it.
        var slack: SlackAlerts?
        if config.generalSettings.alerting.contains("slack") {
            if let url = [environment["SLACK_WEBHOOK_URL"], environment["ALERTING_WEBHOOK_URL"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
                var settings = BatchingSender<SlackAlert>.Settings(name: "slack", url: url, headers: [])
                settings.interval = .milliseconds(Int((interval ?? 5) * 1000))
                let args = config.generalSettings.alertingArgs
                let window = args.alertDedupSeconds ?? 300
                let gate = AlertGate(window: .milliseconds(Int(window * 1000)), shared: sharedClaims)
                let sender = BatchingSender<SlackAlert>(
                    settings: settings, client: client, logger: logger, hooks: Self.hooks("slack", metrics, alerts: nil),
                    filter: { await gate.admit($0) }, encode: SlackAlerts.encode)
                let alerts = SlackAlerts(
                    sender: sender, directory: directory, gate: gate, threshold: config.generalSettings.alertingThreshold ?? 300,
                    outageThreshold: args.minorOutageAlertThreshold ?? 5,
                    outageWindow: .milliseconds(Int((args.outageAlertTTL ?? 60) * 1000)),
                    kinds: config.generalSettings.alertTypes.map(Set.init))
                for kind in config.generalSettings.alertTypes ?? [] where !SlackAlerts.kinds.contains(kind) {
                    logger.warning("config: general_settings.alert_types: '\(kind)' is not an alert Switchboard sends; known: \(SlackAlerts.kinds.sorted().joined(separator: ", "))")
                }
                slack = alerts
                sinks.append(alerts)
                monitors.append(alerts)
                stoppables.append { await sender.stop() }
                counters.append(("slack", { sender.dropped }, { sender.sent }))
                sender.start()
            } else {
                logger.warning("config: alerting 'slack' needs SLACK_WEBHOOK_URL (or ALERTING_WEBHOOK_URL); no alerts are sent")
            }
        }

        if named.contains("generic_api") {
            if let url = environment["GENERIC_LOGGER_ENDPOINT"], !url.isEmpty {
                var settings = BatchingSender<QueuedCall>.Settings(
                    name: "generic_api", url: url, headers: GenericAPICallback.headers(environment["GENERIC_LOGGER_HEADERS"]))
                settings.interval = .milliseconds(Int((interval ?? 5) * 1000))
                if let n = Int(environment["DEFAULT_BATCH_SIZE"] ?? ""), n > 0 { settings.batchSize = n }
                let sender = BatchingSender<QueuedCall>(
                    settings: settings, client: client, logger: logger, hooks: Self.hooks("generic_api", metrics, alerts: slack),
                    encode: GenericAPICallback.encoder(directory: directory))
                sinks.append(GenericAPICallback(
                    sender: sender, directory: directory, onSuccess: onSuccess.contains("generic_api"), onFailure: onFailure.contains("generic_api")))
                stoppables.append { await sender.stop() }
                counters.append(("generic_api", { sender.dropped }, { sender.sent }))
                sender.start()
            } else {
                logger.warning("config: callback 'generic_api' needs GENERIC_LOGGER_ENDPOINT; its events are not sent")
            }
        }

        var traces: [(name: String, settings: OTLPExporterSettings, flavor: CallSpans.Flavor, names: Set<String>)] = []
        if named.contains("otel") {
            traces.append(("otel", OTLPExporterSettings.otel(environment: environment), .otel, ["otel"]))
        }
        let langfuseNames: Set<String> = ["langfuse", "langfuse_otel"]
        if !named.isDisjoint(with: langfuseNames) {
            switch OTLPExporterSettings.langfuse(environment: environment) {
            case .success(let s): traces.append(("langfuse", s, .langfuse, langfuseNames))
            case .failure: logger.warning("config: callback 'langfuse' needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY; its events are not sent")
            }
        }
        for t in traces {
            for w in t.settings.warnings { logger.warning("config: callback '\(t.name)': \(w)") }
            var settings = BatchingSender<QueuedCall>.Settings(name: t.name, url: t.settings.endpoint, headers: t.settings.headers)
            settings.interval = t.settings.interval
            settings.batchSize = t.settings.batchSize
            settings.capacity = t.settings.capacity
            let sender = BatchingSender<QueuedCall>(
                settings: settings, client: WebhookClient(group: group, timeout: .nanoseconds(Int64(t.settings.timeout.components.seconds) * 1_000_000_000 + t.settings.timeout.components.attoseconds / 1_000_000_000)),
                logger: logger, hooks: Self.hooks(t.name, metrics, alerts: slack),
                encode: TraceCallback.encoder(spans: CallSpans(directory: directory, flavor: t.flavor), resource: t.settings.resource))
            sinks.append(TraceCallback(
                sender: sender, onSuccess: !onSuccess.isDisjoint(with: t.names), onFailure: !onFailure.isDisjoint(with: t.names)))
            stoppables.append { await sender.stop() }
            counters.append((t.name, { sender.dropped }, { sender.sent }))
            sender.start()
            logger.info("callback '\(t.name)': OTLP/HTTP JSON traces to \(SecretRedaction.redactURL(t.settings.endpoint))")
        }
        shared = sinks
        self.monitors = monitors
        self.stoppables = stoppables
        self.counters = counters
    }

    /// Drops counted in the metric; delivery failures reported to Slack (never Slack's own).
    static func hooks<E>(_ name: String, _ metrics: MetricsSlot?, alerts: SlackAlerts?) -> BatchingSender<E>.Hooks {
        var hooks = BatchingSender<E>.Hooks()
        if let series = metrics?.series(MetricFamily.named("litellm_callback_dropped_events_metric"), [name]) {
            hooks.dropped = { n in series.add(UInt64(n)) }
        }
        if let failures = metrics?.series(MetricFamily.named("litellm_callback_failed_deliveries_metric"), [name]) {
            hooks.deliveryFailed = { [alerts] reason in
                failures.add(1)
                alerts?.callbackFailed(name, reason: reason)
            }
        } else if let alerts {
            hooks.deliveryFailed = { reason in alerts.callbackFailed(name, reason: reason) }
        }
        return hooks
    }

    /// Events of callback `name` dropped because its queue was full.
    public func dropped(_ name: String) -> Int { counters.first { $0.name == name }?.dropped() ?? 0 }
    /// Events of callback `name` delivered.
    public func sent(_ name: String) -> Int { counters.first { $0.name == name }?.sent() ?? 0 }

    /// Delivers what is queued (at shutdown).
    public func stop() async {
        for s in stoppables { await s() }
    }
}
