import CallModel
import Synchronization

/// Deduplicates and rate-limits alerts: one incident (an alert kind and its subject: a
/// deployment, a model group, a callback) alerts at most once per `window`. Locally a short
/// lock over a small dictionary; with shared claims (Redis `SET NX PX`, when the router's
/// state is in Redis) every worker of every pod asks the same key first, so a cluster alerts
/// once per incident, not once per worker.
public final class AlertGate: Sendable {
    let window: Duration
    let shared: (any SharedClaims)?
    private let sentAt = Mutex<[String: ContinuousClock.Instant]>([:])

    public init(window: Duration, shared: (any SharedClaims)?) {
        self.window = window
        self.shared = shared
    }

    /// Whether this worker sent (or another worker claimed) `key` within the window: such
    /// alerts are not even queued. Cheap (one short lock), for the event loop.
    func recentlySent(_ key: String) -> Bool {
        let now = ContinuousClock.now
        return sentAt.withLock { m in m[key].map { now - $0 < window } ?? false }
    }

    /// Groups a batch by incident and keeps the incidents no one alerted within the window
    /// (one alert each, prefixed with their count when several were seen).
    func admit(_ alerts: [SlackAlert]) async -> [SlackAlert] {
        var order: [String] = []
        var first: [String: SlackAlert] = [:]
        var counts: [String: Int] = [:]
        for a in alerts {
            if first[a.key] == nil { order.append(a.key); first[a.key] = a }
            counts[a.key, default: 0] += 1
        }
        var admitted: [SlackAlert] = []
        let milliseconds = Int(window.components.seconds * 1000 + window.components.attoseconds / 1_000_000_000_000_000)
        for key in order {
            guard !recentlySent(key) else { continue }
            var mine = true
            if let shared { mine = await shared.claim("sb:v1:alert:{\(key)}", ttlMilliseconds: milliseconds) }
            remember(key)
            guard mine, var alert = first[key] else { continue }
            if let n = counts[key], n > 1 { alert.text = "[Num Alerts: \(n)]\n\n" + alert.text }
            admitted.append(alert)
        }
        return admitted
    }

    private func remember(_ key: String) {
        let now = ContinuousClock.now
        sentAt.withLock { m in
            if m.count > 4096 { m = m.filter { now - $0.value < window } }
            m[key] = now
        }
    }
}

/// One Slack alert: its kind (LiteLLM's alert type names), what it is about, and its text.
public struct SlackAlert: Sendable {
    public var kind: String
    public var subject: String
    public var text: String
    /// The incident: kind and subject.
    var key: String { "\(kind):\(subject)" }
}
