import CallModel
import Foundation
import NIOCore
import OpenAIWire
import Synchronization

/// `general_settings.alerting: ["slack"]`: LiteLLM's alert texts posted to `SLACK_WEBHOOK_URL`
/// (or `ALERTING_WEBHOOK_URL`) as Slack incoming-webhook JSON (`{"text": ...}`).
///
/// | kind | when |
/// |---|---|
/// | `llm_exceptions` | a call failed on the provider's side (5xx, timeout, connection error) |
/// | `llm_too_slow` | a successful call took longer than `alerting_threshold` seconds (default 300) |
/// | `llm_requests_hanging` | a call is still open after `alerting_threshold` seconds |
/// | `cooldown_deployment` | a deployment entered cooldown (the state store's view: with Redis, the cluster's) |
/// | `outage_alerts` | a deployment failed `alerting_args.minor_outage_alert_threshold` (5) attempts within `outage_alert_ttl` (60) seconds |
/// | `no_healthy_deployments` | every deployment of a model group is cooling down |
/// | `callback_failures` | a callback (otel, langfuse, generic_api) could not deliver its events |
///
/// Every alert is an incident (kind + deployment, group or callback) that goes through the
/// ``AlertGate``: at most one alert per incident per window (`alerting_args.alert_dedup_seconds`,
/// default 300), once per cluster with Redis. `alert_types` limits the kinds sent.
/// Alerts are batched: one POST per flush.
public final class SlackAlerts: CallRecordSink, GatewayMonitor, Sendable {
    let sender: BatchingSender<SlackAlert>
    let directory: DeploymentDirectory
    let gate: AlertGate
    /// Seconds.
    let threshold: Double
    let outageThreshold: Int
    let outageWindow: Duration
    /// `alert_types`: the kinds sent (`nil`: all).
    let kinds: Set<String>?
    private let failures = Mutex<[String: (since: ContinuousClock.Instant, count: Int)]>([:])
    private let cooling = Mutex<Set<String>>([])
    private let unhealthyGroups = Mutex<Set<String>>([])

    init(
        sender: BatchingSender<SlackAlert>, directory: DeploymentDirectory, gate: AlertGate, threshold: Double,
        outageThreshold: Int = 5, outageWindow: Duration = .seconds(60), kinds: Set<String>? = nil
    ) {
        self.kinds = kinds
        self.sender = sender
        self.directory = directory
        self.gate = gate
        self.threshold = threshold
        self.outageThreshold = outageThreshold
        self.outageWindow = outageWindow
    }

    // MARK: Finished calls (on the event loop: O(1), no I/O)

    public func record(_ r: CallRecord) {
        // The deployment is looked up only for an alert (a lookup hashes its id).
        if let failure = r.failure {
            let d = directory[r.deploymentID]
            if Self.isProviderFault(failure, status: r.status) {
                add("llm_exceptions", subject: "\(r.deploymentID ?? r.modelGroup ?? "-"):\(failure.name)") {
                    Self.text(
                        type: "llm_exceptions", level: "High", message: "LLM API call failed: `\(failure.description)`",
                        extra: [("Model Group", r.modelGroup ?? ""), ("API Base", d?.apiBase ?? "None")])
                }
            }
        } else if Double(r.totalNanoseconds) / 1e9 > threshold {
            let seconds = Double(r.totalNanoseconds) / 1e9
            let d = directory[r.deploymentID]
            add("llm_too_slow", subject: r.deploymentID ?? r.modelGroup ?? "-") {
                Self.text(
                    type: "llm_too_slow", level: "Low",
                    message: "`Responses are slow - \(String(format: "%.2f", seconds))s response time > Alerting threshold: \(Self.format(threshold))s`",
                    extra: [("Request Model", d?.model ?? r.modelGroup ?? ""), ("API Base", d?.apiBase ?? "None")])
            }
        }
        if r.firstAttempt?.failure != nil { countFailures(r) }
    }

    /// Failed attempts against each deployment (only failures take the lock).
    private func countFailures(_ r: CallRecord) {
        let now = ContinuousClock.now
        for a in r.attempts {
            guard let f = a.failure, f.isDeploymentFault else { continue }
            let n = failures.withLock { m -> Int in
                var e = m[a.deploymentID] ?? (now, 0)
                if now - e.since > outageWindow { e = (now, 0) }
                e.count += 1
                m[a.deploymentID] = e
                return e.count
            }
            guard n >= outageThreshold else { continue }
            let d = directory[a.deploymentID]
            add("outage_alerts", subject: a.deploymentID) {
                Self.text(
                    type: "outage_alerts", level: "Medium",
                    message: "`Deployment failing repeatedly: \(n) failed requests in \(Int(outageWindow.components.seconds))s` (last: \(f.description))",
                    extra: [("Model", d?.model ?? a.deploymentID), ("Model ID", a.deploymentID), ("API Base", d?.apiBase ?? "None")])
            }
        }
    }

    // MARK: Monitor (periodic sweeps)

    /// `nil` (no sweep at all) when `alert_types` leaves hanging calls out.
    public var hangingThresholdNanoseconds: UInt64? {
        kinds?.contains("llm_requests_hanging") == false ? nil : UInt64(threshold * 1e9)
    }

    public func callsStillOpen(_ calls: [OpenCallSnapshot]) {
        for call in calls {
            let d = directory[call.deploymentID]
            add("llm_requests_hanging", subject: call.deploymentID ?? call.modelGroup ?? "-") {
                Self.text(
                    type: "llm_requests_hanging", level: "Medium",
                    message: "`Requests are hanging - \(Self.format(threshold))s+ request time`",
                    extra: [("Request Model", d?.model ?? call.modelGroup ?? ""), ("Model Group", call.modelGroup ?? ""),
                            ("API Base", d?.apiBase ?? "None"), ("Call ID", call.callID)])
            }
        }
    }

    public func deploymentHealth(_ deployments: [DeploymentHealthSnapshot]) {
        let nowCooling = Set(deployments.filter(\.coolingDown).map(\.deploymentID))
        let entered = cooling.withLock { old -> Set<String> in
            defer { old = nowCooling }
            return nowCooling.subtracting(old)
        }
        for id in entered.sorted() {
            let d = directory[id]
            let group = deployments.first { $0.deploymentID == id }?.modelGroup ?? ""
            add("cooldown_deployment", subject: id) {
                Self.text(
                    type: "cooldown_deployment", level: "Low", message: "`Deployment entered cooldown`",
                    extra: [("Model", d?.model ?? id), ("Model ID", id), ("Model Group", group), ("API Base", d?.apiBase ?? "None")])
            }
        }
        var groups: [String: (all: Int, cooling: Int)] = [:]
        for d in deployments { groups[d.modelGroup, default: (0, 0)].all += 1; if d.coolingDown { groups[d.modelGroup]!.cooling += 1 } }
        let down = Set(groups.filter { $0.value.all > 0 && $0.value.all == $0.value.cooling }.keys)
        let newlyDown = unhealthyGroups.withLock { old -> Set<String> in
            defer { old = down }
            return down.subtracting(old)
        }
        for group in newlyDown.sorted() {
            add("no_healthy_deployments", subject: group) {
                Self.text(
                    type: "no_healthy_deployments", level: "High",
                    message: "`No healthy deployment: all \(groups[group]?.all ?? 0) deployments of model group \(group) are cooling down`",
                    extra: [("Model Group", group)])
            }
        }
    }

    // MARK: Callbacks

    /// A callback's delivery failed (called by its sender, off the request path).
    public func callbackFailed(_ name: String, reason: String) {
        add("callback_failures", subject: name) {
            Self.text(
                type: "callback_failures", level: "Medium", message: "`Callback \(name) is failing: \(reason)`",
                extra: [("Callback", name)])
        }
    }

    /// Queues an alert unless its incident alerted within the window (the text is only made then).
    private func add(_ kind: String, subject: String, text: () -> String) {
        guard kinds?.contains(kind) ?? true, !gate.recentlySent("\(kind):\(subject)") else { return }
        sender.add(SlackAlert(kind: kind, subject: subject, text: text()))
    }

    /// Every kind this class sends (LiteLLM's `alert_types` names, and Switchboard's own
    /// `no_healthy_deployments` and `callback_failures`).
    public static let kinds: Set<String> = [
        "llm_exceptions", "llm_too_slow", "llm_requests_hanging", "cooldown_deployment", "outage_alerts",
        "no_healthy_deployments", "callback_failures",
    ]

    static func isProviderFault(_ f: UpstreamFailure, status: Int) -> Bool {
        switch f {
        case .clientGone: return false
        case .status(let s): return s.status >= 500
        default: return status >= 500 || status == 408
        }
    }

    static func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// LiteLLM's layout: type, level, timestamp, message, then one line per extra field.
    static func text(type: String, level: String, message: String, extra: [(String, String)]) -> String {
        var t = "Alert type: `\(type)`\nLevel: `\(level)`\nTimestamp: `\(clock())`\n\nMessage: \(message)"
        for (k, v) in extra { t += "\n\(k): `\(v)`" }
        return t
    }

    /// `HH:MM:SS`, UTC.
    static func clock() -> String {
        let s = Int(Date().timeIntervalSince1970) % 86_400
        return String(format: "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
    }

    /// One flush → one Slack message (the gate already grouped each incident's alerts).
    static let encode: BatchingSender<SlackAlert>.Encode = { alerts in
        var out = ByteBuffer()
        out.writeStaticString(#"{"text":"#)
        out.writeJSONString(alerts.map(\.text).joined(separator: "\n\n"))
        out.writeStaticString("}")
        return out
    }
}
