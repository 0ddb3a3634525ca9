import CallModel
import Logging
import Metrics
import NIOCore
import SwitchboardConfig

/// The callbacks and alerts a config asks for, made once per worker: their record sinks (one
/// set per event loop), their monitors, and their senders (started here, flushed on stop).
///
/// ```swift
/// let callbacks = Callbacks(config: config, environment: env, group: group, logger: logger)
/// let server = GatewayServer(gateway: gateway, group: group, sinks: callbacks.sinks(on:), monitors: callbacks.monitors)
/// ```
public final class Callbacks: Sendable {
    /// Sinks shared by every event loop (Slack's).
    private let shared: [any CallRecordSink & Sendable]
    /// The callbacks that log calls, written into by each loop's ``LoopCallLog``.
    private let lanes: [CallLogLane]
    /// Watchers of open calls and deployment health (Slack alerts).
    public let monitors: [any GatewayMonitor]
    private let senders: [Sender]

    /// The sinks of event loop `loop`: a call is logged at the end of the tick it ended in.
    public func sinks(on loop: any EventLoop) -> [any CallRecordSink] {
        shared + (lanes.isEmpty ? [] : [LoopCallLog(loop: loop, lanes: lanes)])
    }

    /// Sinks for records given from any thread, each logged at once (one set for all callers).
    public func sharedSinks() -> [any CallRecordSink] {
        shared + (lanes.isEmpty ? [] : [SharedCallLog(lanes: lanes)])
    }


    /// - Parameters:
    ///   - environment: where the callbacks' variables are read (`OTEL_*`, `LANGFUSE_*`, ...).
    ///   - metrics: where drops and failed deliveries are counted (absent: only logged).
    ///   - sharedClaims: the cluster-wide incident claims for alert deduplication (Redis).
    public init(
        config: GatewayConfig, environment: [String: String], group: any EventLoopGroup, logger: Logger,
        metrics: MetricsSlot? = nil, sharedClaims: (any SharedClaims)? = nil
    ) {
        // Unknown callback names are config warnings (KnownKeys.callbacks), logged once at load.
        var b = Builder(config: config, environment: environment, group: group, logger: logger, metrics: metrics)
        // Slack first: the other senders report their failures to it.
        b.addSlack(sharedClaims: sharedClaims)
        b.addGenericAPI()
        b.addTraces()
        shared = b.sinks
        lanes = b.lanes
        monitors = b.slack.map { [$0] } ?? []
        senders = b.senders
    }

    /// Events of callback `name` dropped because its queue was full.
    public func dropped(_ name: String) -> Int { senders.first { $0.name == name }?.dropped() ?? 0 }
    /// Events of callback `name` delivered.
    public func sent(_ name: String) -> Int { senders.first { $0.name == name }?.sent() ?? 0 }
    /// Failed deliveries (POSTs) of callback `name`, each retry counted.
    public func failures(_ name: String) -> Int { senders.first { $0.name == name }?.failures() ?? 0 }

    /// Delivers what is queued (at shutdown).
    public func stop() async {
        for s in senders { await s.stop() }
    }

    /// A started sender, seen without its entry type.
    struct Sender: Sendable {
        var name: String
        var dropped: @Sendable () -> Int
        var sent: @Sendable () -> Int
        var failures: @Sendable () -> Int
        var stop: @Sendable () async -> Void

        init<E: Sendable>(_ name: String, _ sender: BatchingSender<E>) {
            self.name = name
            dropped = { sender.dropped }
            sent = { sender.sent }
            failures = { sender.failures }
            stop = { await sender.stop() }
            sender.start()
        }
    }

    /// Makes the sinks and senders of one config.
    struct Builder {
        let config: GatewayConfig
        let environment: [String: String]
        let group: any EventLoopGroup
        let logger: Logger
        let metrics: MetricsSlot?
        let onSuccess: Set<String>
        let onFailure: Set<String>
        let directory: DeploymentDirectory
        let client: WebhookClient
        /// `DEFAULT_FLUSH_INTERVAL_SECONDS` (LiteLLM's, for every batch logger), default 5.
        let interval: Duration
        var sinks: [any CallRecordSink & Sendable] = []
        /// The callbacks that log calls.
        var lanes: [CallLogLane] = []
        var senders: [Sender] = []
        var slack: SlackAlerts?

        var named: Set<String> { onSuccess.union(onFailure) }

        init(config: GatewayConfig, environment: [String: String], group: any EventLoopGroup, logger: Logger, metrics: MetricsSlot?) {
            self.config = config
            self.environment = environment
            self.group = group
            self.logger = logger
            self.metrics = metrics
            let l = config.litellmSettings
            onSuccess = Set(l.callbacks).union(l.successCallback)
            onFailure = Set(l.callbacks).union(l.failureCallback)
            directory = DeploymentDirectory(config: config)
            client = WebhookClient(group: group)
            let seconds = Double(environment["DEFAULT_FLUSH_INTERVAL_SECONDS"] ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 5
            interval = .milliseconds(Int(seconds * 1000))
        }

        /// `general_settings.alerting: ["slack"]`.
        mutating func addSlack(sharedClaims: (any SharedClaims)?) {
            let general = config.generalSettings
            guard general.alerting.contains("slack") else { return }
            guard let url = [environment["SLACK_WEBHOOK_URL"], environment["ALERTING_WEBHOOK_URL"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
                logger.warning("config: alerting 'slack' needs SLACK_WEBHOOK_URL (or ALERTING_WEBHOOK_URL); no alerts are sent")
                return
            }
            for kind in general.alertTypes ?? [] where !SlackAlerts.kinds.contains(kind) {
                logger.warning("config: general_settings.alert_types: '\(kind)' is not an alert Switchboard sends; known: \(SlackAlerts.kinds.sorted().joined(separator: ", "))")
            }
            var settings = BatchingSender<SlackAlert>.Settings(name: "slack", url: url, headers: [])
            settings.interval = interval
            let args = general.alertingArgs
            let gate = AlertGate(window: .milliseconds(Int((args.alertDedupSeconds ?? 300) * 1000)), shared: sharedClaims)
            let sender = BatchingSender<SlackAlert>(
                settings: settings, client: client, logger: logger, hooks: hooks("slack"),
                filter: { await gate.admit($0) }, encode: SlackAlerts.encode)
            let alerts = SlackAlerts(
                sender: sender, directory: directory, gate: gate, threshold: general.alertingThreshold ?? 300,
                outageThreshold: args.minorOutageAlertThreshold ?? 5,
                outageWindow: .milliseconds(Int((args.outageAlertTTL ?? 60) * 1000)),
                kinds: general.alertTypes.map(Set.init))
            slack = alerts
            sinks.append(alerts)
            senders.append(Sender("slack", sender))
        }

        /// `generic_api`: StandardLoggingPayload arrays.
        mutating func addGenericAPI() {
            guard named.contains("generic_api") else { return }
            guard let url = environment["GENERIC_LOGGER_ENDPOINT"], !url.isEmpty else {
                logger.warning("config: callback 'generic_api' needs GENERIC_LOGGER_ENDPOINT; its events are not sent")
                return
            }
            var settings = BatchingSender<CallBatch>.Settings(
                name: "generic_api", url: url, headers: GenericAPICallback.headers(environment["GENERIC_LOGGER_HEADERS"]))
            settings.interval = interval
            if let n = Int(environment["DEFAULT_BATCH_SIZE"] ?? ""), n > 0 { settings.batchSize = n }
            let lane = CallLogLane(
                settings: settings, client: client, logger: logger, hooks: hooks("generic_api"),
                format: GenericAPICallback.format(directory: directory),
                onSuccess: onSuccess.contains("generic_api"), onFailure: onFailure.contains("generic_api"))
            lanes.append(lane)
            senders.append(Sender("generic_api", lane.sender))
        }

        /// `otel` and `langfuse`: OTLP/HTTP traces, each with its own endpoint and settings.
        mutating func addTraces() {
            if named.contains("otel") {
                addTrace("otel", OTLPExporterSettings.otel(environment: environment), .otel, names: ["otel"])
            }
            let langfuse: Set<String> = ["langfuse", "langfuse_otel"]
            guard !named.isDisjoint(with: langfuse) else { return }
            switch OTLPExporterSettings.langfuse(environment: environment) {
            case .success(let s): addTrace("langfuse", s, .langfuse, names: langfuse)
            case .failure: logger.warning("config: callback 'langfuse' needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY; its events are not sent")
            }
        }

        private mutating func addTrace(_ name: String, _ exporter: OTLPExporterSettings, _ flavor: CallSpans.Flavor, names: Set<String>) {
            for w in exporter.warnings { logger.warning("config: callback '\(name)': \(w)") }
            var settings = BatchingSender<CallBatch>.Settings(name: name, url: exporter.endpoint, headers: exporter.headers)
            settings.contentType = exporter.wireProtocol.contentType
            settings.interval = exporter.interval
            settings.batchSize = exporter.batchSize
            settings.capacity = exporter.capacity
            let lane = CallLogLane(
                settings: settings, client: WebhookClient(group: group, timeout: exporter.timeout), logger: logger, hooks: hooks(name),
                format: TraceCallback.format(protocol: exporter.wireProtocol, directory: directory, flavor: flavor, resource: exporter.resource),
                onSuccess: !onSuccess.isDisjoint(with: names), onFailure: !onFailure.isDisjoint(with: names))
            lanes.append(lane)
            senders.append(Sender(name, lane.sender))
            logger.info("callback '\(name)': OTLP traces (\(exporter.wireProtocol.name)) to \(SecretRedaction.redactURL(exporter.endpoint))")
        }

        /// Drops and failed deliveries counted in the metrics; failures reported to Slack (never Slack's own).
        func hooks<E>(_ name: String) -> BatchingSender<E>.Hooks {
            var hooks = BatchingSender<E>.Hooks()
            let dropped = metrics?.series(MetricFamily.named("litellm_callback_dropped_events_metric"), [name])
            let failed = metrics?.series(MetricFamily.named("litellm_callback_failed_deliveries_metric"), [name])
            let alerts = name == "slack" ? nil : slack
            // A series points into the slot's shared memory, which stays mapped only while the
            // slot lives: the hooks keep it (a sender can outlive the server that made it, and
            // report a delivery that failed after it stopped).
            let slot = metrics
            hooks.dropped = { n in withExtendedLifetime(slot) { dropped?.add(UInt64(n)) } }
            hooks.deliveryFailed = { reason in
                withExtendedLifetime(slot) { failed?.add(1) }
                alerts?.callbackFailed(name, reason: reason)
            }
            return hooks
        }
    }
}
