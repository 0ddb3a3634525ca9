import CallModel
import Logging
import NIOCore
import SwitchboardConfig

/// The callbacks and alerts a config asks for, made once per worker: their record sinks (shared
/// by all event loops; each only queues) and their senders (started here, flushed on stop).
///
/// ```swift
/// let callbacks = Callbacks(config: config, environment: env, group: group, logger: logger)
/// let server = GatewayServer(gateway: gateway, group: group) { _ in callbacks.sinks }
/// ```
public final class Callbacks: Sendable {
    private let shared: [any CallRecordSink & Sendable]
    /// The sinks, for every event loop (they only queue, under their own locks).
    public var sinks: [any CallRecordSink] { shared }
    let senders: [BatchingSender]

    /// Callback names acted on; other LiteLLM names are accepted with a warning.
    public static let supported: Set<String> = ["generic_api"]

    public init(config: GatewayConfig, environment: [String: String], group: any EventLoopGroup, logger: Logger) {
        let l = config.litellmSettings
        let both = Set(l.callbacks)
        let onSuccess = both.union(l.successCallback)
        let onFailure = both.union(l.failureCallback)
        let directory = DeploymentDirectory(config: config)
        let client = WebhookClient(group: group)
        let interval = Double(environment["DEFAULT_FLUSH_INTERVAL_SECONDS"] ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 5
        var sinks: [any CallRecordSink & Sendable] = []
        var senders: [BatchingSender] = []
        for name in onSuccess.union(onFailure).sorted() where !Self.supported.contains(name) && name != "prometheus" {
            logger.warning("callback '\(name)' is not supported by this Switchboard build; its events are not sent")
        }
        if onSuccess.contains("generic_api") || onFailure.contains("generic_api") {
            if let url = environment["GENERIC_LOGGER_ENDPOINT"], !url.isEmpty {
                var settings = BatchingSender.Settings(url: url, headers: GenericAPICallback.headers(environment["GENERIC_LOGGER_HEADERS"]))
                settings.interval = .milliseconds(Int(interval * 1000))
                if let n = Int(environment["DEFAULT_BATCH_SIZE"] ?? ""), n > 0 { settings.batchSize = n }
                let sender = BatchingSender(settings: settings, client: client, logger: logger)
                senders.append(sender)
                sinks.append(GenericAPICallback(
                    sender: sender, directory: directory, onSuccess: onSuccess.contains("generic_api"), onFailure: onFailure.contains("generic_api")))
            } else {
                logger.warning("callback 'generic_api' needs GENERIC_LOGGER_ENDPOINT; its events are not sent")
            }
        }
        if config.generalSettings.alerting.contains("slack") {
            if let url = [environment["SLACK_WEBHOOK_URL"], environment["ALERTING_WEBHOOK_URL"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
                var settings = BatchingSender.Settings(url: url, headers: [])
                settings.interval = .milliseconds(Int(interval * 1000))
                let sender = BatchingSender(settings: settings, client: client, logger: logger, encode: SlackAlerts.encode)
                senders.append(sender)
                sinks.append(SlackAlerts(sender: sender, directory: directory, threshold: config.generalSettings.alertingThreshold ?? 300))
            } else {
                logger.warning("alerting 'slack' needs SLACK_WEBHOOK_URL (or ALERTING_WEBHOOK_URL); no alerts are sent")
            }
        }
        shared = sinks
        self.senders = senders
        for s in senders { s.start() }
    }

    /// Delivers what is queued (at shutdown).
    public func stop() async {
        for s in senders { await s.stop() }
    }
}
