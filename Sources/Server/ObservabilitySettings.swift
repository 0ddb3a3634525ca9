import OpenAIWire
import SwitchboardConfig

/// The settings of metrics, docs and logs, resolved once at start.
///
/// | setting | default | effect |
/// |---|---|---|
/// | `require_auth_for_metrics_endpoint` (litellm_settings or general_settings) | `true` | `false` serves `/metrics` without the master key |
/// | `NO_DOCS=True` | docs on | `/` and `/openapi.json` answer 404 |
/// | `litellm_settings.json_logs: true` or `JSON_LOGS=True` | off | one JSON line per request |
public struct ObservabilitySettings: Sendable, Equatable {
    public var metricsRequireAuth = true
    public var docs = true
    public var jsonLogs = false

    public init() {}

    public init(config: GatewayConfig, environment: [String: String]) {
        let sections = [config.litellmSettings.all, config.generalSettings.all]
        for section in sections {
            for member in section {
                switch member.key {
                case "require_auth_for_metrics_endpoint":
                    if let b = Self.bool(member.value) { metricsRequireAuth = b }
                case "json_logs":
                    if Self.bool(member.value) == true { jsonLogs = true }
                default: break
                }
            }
        }
        if Self.truthy(environment["JSON_LOGS"]) { jsonLogs = true }
        if Self.truthy(environment["NO_DOCS"]) { docs = false }
    }

    /// A YAML boolean, or a string `"true"`/`"false"` (as from `os.environ/`).
    static func bool(_ value: JSONValue) -> Bool? {
        if let b = value.boolValue { return b }
        if let s = value.stringValue?.lowercased() { return s == "true" ? true : s == "false" ? false : nil }
        return nil
    }

    /// `True`, `true`, `1`, `yes` (as LiteLLM reads `NO_DOCS`).
    public static func truthy(_ value: String?) -> Bool {
        guard let v = value?.lowercased() else { return false }
        return v == "true" || v == "1" || v == "yes"
    }
}
