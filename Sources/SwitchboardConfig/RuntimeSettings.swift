/// Switchboard's own settings read from the environment (LiteLLM has no equivalent), validated
/// once at start: a bad value is a `ConfigError` naming the variable, and the process exits 1
/// instead of trapping later.
///
/// ```swift
/// let settings = try RuntimeSettings(environment: ProcessInfo.processInfo.environment)
/// ```
///
/// An unset or empty variable takes its default.
public struct RuntimeSettings: Sendable, Equatable {
    /// `SWITCHBOARD_IDLE_TIMEOUT_SECONDS`: a client connection idle between requests, or slower
    /// than this to send one, is closed. Seconds, greater than 0; default 120.
    public var idleTimeoutSeconds: Double = 120
    /// `SWITCHBOARD_DRAIN_SECONDS`: on SIGTERM/SIGINT, how long in-flight calls may run before the
    /// process exits. Seconds, 0 or more; default 30.
    public var drainSeconds: Double = 30
    /// `SWITCHBOARD_RELOAD_DRAIN_SECONDS`: after a reload, how long the old workers may finish
    /// their calls and streams. Seconds, 0 or more; default 600 (the default request timeout).
    public var reloadDrainSeconds: Double = 600
    /// `SWITCHBOARD_WATCH_CONFIG_SECONDS`: how often the config file is checked for changes.
    /// Seconds, 0 or more (0: never); default 2.
    public var watchConfigSeconds: Double = 2
    /// `SWITCHBOARD_CONFIG_POLL_SECONDS`: how often a config read from a bucket
    /// (`LITELLM_CONFIG_BUCKET_NAME`) is asked whether it changed (a conditional request; a reload
    /// only when it did). Seconds, 0 or more (0: never; SIGHUP still re-fetches); default 0.
    public var configPollSeconds: Double = 0
    /// `SWITCHBOARD_EVENT_LOOPS`: event-loop threads per worker; default (`nil`): usable CPUs
    /// divided by the workers.
    public var eventLoops: Int?
    /// `SWITCHBOARD_STRICT_ENV`: when true, an unset `os.environ/` variable anywhere in the config
    /// fails the load. `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; default false.
    public var strictEnvironment: Bool = false
    /// `SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES`: the cap on a buffered (non-streamed) upstream
    /// answer; past it the client gets a 502. Bytes, at least 1024; default 64 MiB.
    public var maxUpstreamBodyBytes: Int = 64 << 20
    /// `SWITCHBOARD_MAX_CONNECTIONS`: the cap on open client connections of one worker; past it
    /// new connections get a 503. At least 1; default (`nil`): half the file-descriptor limit.
    public var maxConnections: Int?

    /// The largest duration accepted, in seconds (365 days).
    public static let maximumSeconds: Double = 31_536_000

    public init() {}

    public init(environment: [String: String]) throws(ConfigError) {
        if let value = try Self.seconds(environment, "SWITCHBOARD_IDLE_TIMEOUT_SECONDS", allowsZero: false) {
            idleTimeoutSeconds = value
        }
        if let value = try Self.seconds(environment, "SWITCHBOARD_DRAIN_SECONDS", allowsZero: true) {
            drainSeconds = value
        }
        if let value = try Self.seconds(environment, "SWITCHBOARD_RELOAD_DRAIN_SECONDS", allowsZero: true) {
            reloadDrainSeconds = value
        }
        if let value = try Self.seconds(environment, "SWITCHBOARD_WATCH_CONFIG_SECONDS", allowsZero: true) {
            watchConfigSeconds = value
        }
        if let value = try Self.seconds(environment, "SWITCHBOARD_CONFIG_POLL_SECONDS", allowsZero: true) {
            configPollSeconds = value
        }
        eventLoops = try Self.count(environment, "SWITCHBOARD_EVENT_LOOPS", minimum: 1)
        if let value = try Self.flag(environment, "SWITCHBOARD_STRICT_ENV") {
            strictEnvironment = value
        }
        if let value = try Self.count(environment, "SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES", minimum: 1024) {
            maxUpstreamBodyBytes = value
        }
        maxConnections = try Self.count(environment, "SWITCHBOARD_MAX_CONNECTIONS", minimum: 1)
    }

    /// A whole number, at least `minimum`.
    static func count(_ environment: [String: String], _ name: String, minimum: Int) throws(ConfigError) -> Int? {
        guard let raw = environment[name], !raw.trimmingSpaces.isEmpty else { return nil }
        guard let value = Int(raw.trimmingSpaces), value >= minimum else {
            throw ConfigError(
                path: "",
                message: "environment variable \(name) must be a whole number, at least \(minimum), got "
                    + ValueConversion.describe(.string(raw)))
        }
        return value
    }

    /// A duration: a finite number, greater than 0 (or 0 when `allowsZero`), at most a year.
    static func seconds(_ environment: [String: String], _ name: String, allowsZero: Bool) throws(ConfigError) -> Double? {
        guard let raw = environment[name], !raw.trimmingSpaces.isEmpty else { return nil }
        let lower = allowsZero ? "0 or more" : "greater than 0"
        guard let value = Double(raw.trimmingSpaces), value.isFinite,
              allowsZero ? value >= 0 : value > 0, value <= maximumSeconds else {
            throw ConfigError(
                path: "",
                message: "environment variable \(name) must be a number of seconds, \(lower) and at most "
                    + "\(Int(maximumSeconds)), got \(ValueConversion.describe(.string(raw)))")
        }
        return value
    }

    static func flag(_ environment: [String: String], _ name: String) throws(ConfigError) -> Bool? {
        guard let raw = environment[name], !raw.trimmingSpaces.isEmpty else { return nil }
        switch raw.trimmingSpaces.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            throw ConfigError(
                path: "",
                message: "environment variable \(name) must be 1, true, yes, on, 0, false, no or off, got "
                    + ValueConversion.describe(.string(raw)))
        }
    }
}
