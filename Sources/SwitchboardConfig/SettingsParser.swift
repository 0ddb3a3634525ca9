import OpenAIWire

/// Reads `litellm_settings` and `general_settings` (each already resolved). Unknown keys warn and
/// are kept in `all`.
enum SettingsParser {
    static func litellm(_ value: JSONValue, warnings: inout [ConfigWarning]) throws(ConfigError) -> LitellmSettings {
        let s = try MappingReader(value, path: "litellm_settings")
        warnings += s.unknownKeys(known: KnownKeys.litellmSettings, message: "unknown litellm_settings key, not used")
        var settings = LitellmSettings()
        settings.dropParams = try s.bool("drop_params") ?? false
        settings.numRetries = try s.int("num_retries", minimum: 0)
        settings.requestTimeout = try s.seconds("request_timeout")
        settings.fallbacks = try FallbackParser.rules(s, "fallbacks")
        settings.contextWindowFallbacks = try FallbackParser.rules(s, "context_window_fallbacks")
        settings.contentPolicyFallbacks = try FallbackParser.rules(s, "content_policy_fallbacks")
        settings.defaultFallbacks = try s.stringList("default_fallbacks") ?? []
        settings.allowedFails = try s.int("allowed_fails", minimum: 0)
        settings.cooldownTime = try s.double("cooldown_time", minimum: 0)
        settings.successCallback = try s.stringList("success_callback") ?? []
        settings.failureCallback = try s.stringList("failure_callback") ?? []
        settings.callbacks = try s.stringList("callbacks") ?? []
        for key in ["success_callback", "failure_callback", "callbacks"] {
            let names = key == "callbacks" ? settings.callbacks : key == "success_callback" ? settings.successCallback : settings.failureCallback
            for (i, name) in names.enumerated() where !KnownKeys.callbacks.contains(name) {
                // A single string is a one-element list: its path has no index.
                let path = s[key].flatMap(\.arrayValue) == nil ? s.path(key) : KeyPath.index(s.path(key), i)
                warnings.append(ConfigWarning(path: path, message: "callback '\(name)' is not supported by this Switchboard build; its events are not sent"))
            }
        }
        settings.setVerbose = try s.bool("set_verbose") ?? false
        settings.all = s.members
        return settings
    }

    /// `environment` supplies `DATABASE_URL` when `database_url` is not set.
    static func general(
        _ value: JSONValue, environment: [String: String], warnings: inout [ConfigWarning]
    ) throws(ConfigError) -> GeneralSettings {
        let s = try MappingReader(value, path: "general_settings")
        warnings += s.unknownKeys(known: KnownKeys.generalSettings, message: "unknown general_settings key, not used")
        var settings = GeneralSettings()
        settings.masterKey = try s.string("master_key")
        if let key = settings.masterKey, !key.hasPrefix("sk-") {
            warnings.append(ConfigWarning(path: s.path("master_key"),
                                          message: "does not start with \"sk-\" as LiteLLM requires of a master key"))
        }
        settings.databaseURL = try s.string("database_url") ?? nonEmpty(environment["DATABASE_URL"])
        settings.databaseConnectionPoolLimit = try s.int("database_connection_pool_limit", minimum: 1) ?? 10
        settings.databaseConnectionTimeout = try s.double("database_connection_timeout", minimum: 0) ?? 60
        settings.alerting = try s.stringList("alerting") ?? []
        settings.alertingThreshold = try s.double("alerting_threshold", minimum: 0)
        settings.alertTypes = try s.stringList("alert_types")
        if let args = try s.reader("alerting_args") {
            warnings += args.unknownKeys(known: KnownKeys.alertingArgs, message: "unknown alerting_args key, not used")
            settings.alertingArgs.outageAlertTTL = try args.double("outage_alert_ttl", minimum: 1)
            settings.alertingArgs.minorOutageAlertThreshold = try args.int("minor_outage_alert_threshold", minimum: 1)
            settings.alertingArgs.alertDedupSeconds = try args.double("alert_dedup_seconds", minimum: 0)
        }
        settings.disableSpendLogs = try s.bool("disable_spend_logs") ?? false
        settings.storeModelInDB = try s.bool("store_model_in_db") ?? false
        settings.maxRequestBodyBytes = try s.int("max_request_body_bytes", minimum: 1) ?? (64 << 20)
        settings.all = s.members
        return settings
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
