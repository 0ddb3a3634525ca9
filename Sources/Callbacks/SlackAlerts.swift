import CallModel
import Foundation
import NIOCore
import OpenAIWire

/// `general_settings.alerting: ["slack"]`: posts LiteLLM's alert texts to `SLACK_WEBHOOK_URL`
/// (or `ALERTING_WEBHOOK_URL`) as Slack incoming-webhook JSON (`{"text": ...}`):
/// `llm_too_slow` when a successful call took longer than `alerting_threshold` seconds (default
/// 300), `llm_exceptions` when a call failed on the provider's side (5xx, timeouts, connection
/// errors). Alerts are batched (one POST per flush); identical alerts in a flush are squashed into
/// one, prefixed `[Num Alerts: N]`, as LiteLLM does.
public final class SlackAlerts: CallRecordSink, Sendable {
    let sender: BatchingSender
    let directory: DeploymentDirectory
    /// Seconds.
    let threshold: Double

    public init(sender: BatchingSender, directory: DeploymentDirectory, threshold: Double) {
        self.sender = sender
        self.directory = directory
        self.threshold = threshold
    }

    public func record(_ r: CallRecord) {
        let seconds = Double(r.totalNanoseconds) / 1e9
        let d = directory[r.deploymentID]
        if let failure = r.failure {
            guard Self.isProviderFault(failure, status: r.status) else { return }
            let text = Self.text(
                type: "llm_exceptions", level: "High", message: "LLM API call failed: `\(failure.description)`",
                extra: [("Model Group", r.modelGroup ?? ""), ("API Base", d?.apiBase ?? "None")])
            sender.add(ByteBuffer(string: text))
        } else if seconds > threshold {
            let message = "`Responses are slow - \(String(format: "%.2f", seconds))s response time > Alerting threshold: \(Self.format(threshold))s`"
            let text = Self.text(
                type: "llm_too_slow", level: "Low", message: message,
                extra: [("Request Model", d?.model ?? r.modelGroup ?? ""), ("API Base", d?.apiBase ?? "None")])
            sender.add(ByteBuffer(string: text))
        }
    }

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

    /// One flush → one Slack message: identical alerts squashed with their count.
    public static let encode: BatchingSender.Encode = { entries in
        var counts: [String: Int] = [:]
        var order: [String] = []
        for e in entries {
            let text = String(buffer: e)
            if counts[text] == nil { order.append(text) }
            counts[text, default: 0] += 1
        }
        let joined = order.map { counts[$0]! > 1 ? "[Num Alerts: \(counts[$0]!)]\n\n" + $0 : $0 }.joined(separator: "\n\n")
        var out = ByteBuffer()
        out.writeStaticString(#"{"text":"#)
        out.writeJSONString(joined)
        out.writeStaticString("}")
        return out
    }
}
