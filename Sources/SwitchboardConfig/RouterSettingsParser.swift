import Foundation
import OpenAIWire

/// Reads `router_settings` (already resolved). Unknown keys warn and are kept in `all`.
enum RouterSettingsParser {
    /// The values `routing_strategy` may take.
    static let routingStrategies = [
        "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2",
        "latency-based-routing", "cost-based-routing",
    ]

    /// `environment` supplies `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`, `REDIS_CLUSTER_NODES`
    /// and `REDIS_SSL*` for keys not set.
    static func parse(
        _ value: JSONValue, environment: [String: String], warnings: inout [ConfigWarning]
    ) throws(ConfigError) -> RouterSettings {
        let s = try MappingReader(value, path: "router_settings")
        warnings += s.unknownKeys(known: KnownKeys.routerSettings, message: "unknown router_settings key, not used")
        var settings = RouterSettings()
        if let strategy = try s.string("routing_strategy") {
            guard routingStrategies.contains(strategy) else {
                throw ConfigError(
                    path: s.path("routing_strategy"),
                    message: "unknown routing strategy \(ValueConversion.describe(.string(strategy))); "
                        + "use one of \(routingStrategies.joined(separator: ", "))")
            }
            settings.routingStrategy = strategy
        }
        settings.routingStrategyArgs = try s.mapping("routing_strategy_args") ?? []
        settings.modelGroupAlias = try aliases(s, warnings: &warnings)
        settings.numRetries = try s.int("num_retries", minimum: 0)
        settings.timeout = try s.seconds("timeout")
        settings.streamTimeout = try s.seconds("stream_timeout")
        settings.retryAfter = try s.double("retry_after", minimum: 0)
        settings.allowedFails = try s.int("allowed_fails", minimum: 0)
        settings.cooldownTime = try s.double("cooldown_time", minimum: 0)
        settings.enablePreCallChecks = try s.bool("enable_pre_call_checks") ?? false
        settings.optionalPreCallChecks = try s.stringList("optional_pre_call_checks") ?? []
        settings.fallbacks = try FallbackParser.rules(s, "fallbacks")
        settings.contextWindowFallbacks = try FallbackParser.rules(s, "context_window_fallbacks")
        settings.contentPolicyFallbacks = try FallbackParser.rules(s, "content_policy_fallbacks")
        settings.defaultFallbacks = try s.stringList("default_fallbacks") ?? []
        settings.disableCooldowns = try s.bool("disable_cooldowns") ?? false
        if let policy = try s.reader("allowed_fails_policy") {
            for member in policy.members {
                guard let n = try policy.int(member.key, minimum: 0) else { continue }
                settings.allowedFailsPolicy[member.key] = n
            }
        }
        let checks = settings.optionalPreCallChecks
        settings.enforceModelRateLimits = try s.bool("enforce_model_rate_limits") ?? true
        if checks.contains("enforce_model_rate_limits") { settings.enforceModelRateLimits = true }
        settings.redisHost = try s.string("redis_host") ?? SettingsParser.nonEmpty(environment["REDIS_HOST"])
        settings.redisPassword = try s.string("redis_password")
            ?? SettingsParser.nonEmpty(environment["REDIS_PASSWORD"])
        settings.redisURL = try s.string("redis_url")
        if let url = settings.redisURL, !url.hasPrefix("redis://"), !url.hasPrefix("rediss://") {
            throw ConfigError(path: s.path("redis_url"), message: "must start with redis:// or rediss://")
        }
        settings.redisUsername = try s.string("redis_username")
        settings.redisDB = try s.int("redis_db", minimum: 0) ?? 0
        settings.redisSSL = try s.bool("redis_ssl") ?? SettingsParser.nonEmpty(environment["REDIS_SSL"]).map { $0.lowercased() == "true" } ?? false
        try redisTLS(s, environment: environment, into: &settings)
        settings.redisClusterNodes = try redisClusterNodes(s, environment: environment)
        settings.redisTimeoutMilliseconds = try s.double("redis_timeout_ms", minimum: 0.1) ?? 5
        settings.redisFailClosed = try s.bool("redis_fail_closed") ?? false
        if let port = try s.int("redis_port", minimum: 1, maximum: 65535) {
            settings.redisPort = port
        } else if let port = SettingsParser.nonEmpty(environment["REDIS_PORT"]) {
            guard let number = Int(port.trimmingSpaces), (1...65535).contains(number) else {
                throw ConfigError(path: "", message: "environment variable REDIS_PORT is not a port number: \"\(port)\"")
            }
            settings.redisPort = number
        }
        settings.all = s.members
        return settings
    }

    /// `redis_ssl_ca_certs`, `redis_ssl_certfile`, `redis_ssl_keyfile` (files that must exist),
    /// `redis_ssl_cert_reqs`; each also from `REDIS_SSL_CA_CERTS` etc. as LiteLLM reads them.
    private static func redisTLS(_ s: MappingReader, environment: [String: String], into settings: inout RouterSettings) throws(ConfigError) {
        func file(_ key: String) throws(ConfigError) -> String? {
            let fromEnvironment = SettingsParser.nonEmpty(environment[key.uppercased()])
            guard let path = try s.string(key) ?? fromEnvironment else { return nil }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigError(path: s.has(key) ? s.path(key) : "", message: "\(s.has(key) ? "" : "environment variable \(key.uppercased()): ")no readable file at \(path)")
            }
            return path
        }
        settings.redisSSLCACerts = try file("redis_ssl_ca_certs")
        settings.redisSSLCertFile = try file("redis_ssl_certfile")
        settings.redisSSLKeyFile = try file("redis_ssl_keyfile")
        if settings.redisSSLKeyFile != nil, settings.redisSSLCertFile == nil {
            throw ConfigError(path: s.path("redis_ssl_keyfile"), message: "needs redis_ssl_certfile (the certificate of this key)")
        }
        if let reqs = try s.string("redis_ssl_cert_reqs") ?? SettingsParser.nonEmpty(environment["REDIS_SSL_CERT_REQS"]) {
            switch reqs.lowercased() {
            case "required": settings.redisSSLVerify = true
            case "none": settings.redisSSLVerify = false
            default:
                throw ConfigError(path: s.path("redis_ssl_cert_reqs"), message: "must be required or none, got \(ValueConversion.describe(.string(reqs)))")
            }
        }
    }

    /// `redis_startup_nodes` / `redis_cluster_nodes`: a list of `{host, port}` (LiteLLM's form)
    /// or `"host:port"`; else `REDIS_CLUSTER_NODES` (JSON, the same list).
    private static func redisClusterNodes(_ s: MappingReader, environment: [String: String]) throws(ConfigError) -> [(host: String, port: Int)] {
        var key = "redis_startup_nodes"
        var value = s[key]
        if value == nil, s.has("redis_cluster_nodes") {
            key = "redis_cluster_nodes"
            value = s[key]
        }
        var path = s.path(key)
        if value == nil, let text = SettingsParser.nonEmpty(environment["REDIS_CLUSTER_NODES"]) {
            path = "environment variable REDIS_CLUSTER_NODES"
            do {
                value = try JSONValue.parse(text)
            } catch {
                throw ConfigError(path: path, message: "is not JSON: \(error)")
            }
        }
        guard let value else { return [] }
        var nodes: [(host: String, port: Int)] = []
        for (i, item) in try ValueConversion.list(value, at: path).enumerated() {
            let itemPath = KeyPath.index(path, i)
            if case .string(let text) = item {
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port), colon != text.startIndex else {
                    throw ConfigError(path: itemPath, message: "expected host:port, got \(ValueConversion.describe(item))")
                }
                nodes.append((String(text[..<colon]), port))
                continue
            }
            let node = try MappingReader(item, path: itemPath)
            let host = try node.requiredString("host")
            guard let port = try node.int("port", minimum: 1, maximum: 65535) else {
                throw ConfigError(path: node.path("port"), message: "required key is missing")
            }
            nodes.append((host, port))
        }
        guard !nodes.isEmpty else { throw ConfigError(path: path, message: "must list at least one node") }
        return nodes
    }

    /// `model_group_alias`: alias → `"group"` or `{model: "group", hidden: true}`, in file order.
    private static func aliases(
        _ s: MappingReader, warnings: inout [ConfigWarning]
    ) throws(ConfigError) -> [(alias: String, target: ModelGroupAlias)] {
        guard let map = try s.reader("model_group_alias") else { return [] }
        var out: [(alias: String, target: ModelGroupAlias)] = []
        for member in map.members {
            let path = map.path(member.key)
            if case .object(let fields) = member.value {
                let target = MappingReader(members: fields, path: path)
                warnings += target.unknownKeys(known: ["model", "hidden"], message: "unknown alias key, ignored")
                out.append((member.key, ModelGroupAlias(model: try target.requiredString("model"),
                                                        hidden: try target.bool("hidden") ?? false)))
            } else {
                let model = try ValueConversion.string(member.value, at: path)
                guard !model.isEmpty else { throw ConfigError(path: path, message: "must name a model group") }
                out.append((member.key, ModelGroupAlias(model: model)))
            }
        }
        return out
    }
}
