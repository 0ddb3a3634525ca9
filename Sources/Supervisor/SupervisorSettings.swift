/// A config that passed validation: its exact text, and per model group a fingerprint of its
/// deployments (so a reload can log which groups were added, removed or changed).
public struct ValidatedConfig: Sendable {
    /// The text as read and validated; workers receive exactly this (see ``ConfigSnapshot``).
    public var text: String
    /// Model group names in config order.
    public var modelNames: [String]
    /// Fingerprint of each model group's deployments; a different value means the group changed.
    public var fingerprints: [String: String]
    /// Non-fatal findings (unknown keys and the like), logged on reload.
    public var warnings: [String]
    /// The values read from the config's secret manager, encoded for the workers (see
    /// ``SecretHandoff``); `nil` when the config names no secret manager.
    public var secrets: [UInt8]?
    /// How long those values may be trusted: after this the supervisor reads them again and
    /// reloads when one changed. `nil`: never.
    public var secretRefresh: Duration?

    public init(text: String, modelNames: [String], fingerprints: [String: String], warnings: [String],
                secrets: [UInt8]? = nil, secretRefresh: Duration? = nil) {
        self.text = text
        self.modelNames = modelNames
        self.fingerprints = fingerprints
        self.warnings = warnings
        self.secrets = secrets
        self.secretRefresh = secretRefresh
    }
}

import ConfigSources

/// How the supervisor runs its workers.
public struct SupervisorSettings: Sendable {
    /// Worker processes per generation.
    public var workers: Int
    /// Arguments every worker gets after the ones the supervisor sets (e.g. `--event_loops 1`).
    public var workerArguments: [String]
    /// The workers' environment (`NAME=value`): the supervisor's own, as it was at start.
    public var environment: [String]
    /// Where the config is fetched again on SIGHUP, a file change or a poll; nil when serving the
    /// built-in demo config.
    public var source: (any ConfigSource)?
    /// Validates config text completely (including `os.environ/` resolution). Async so that a
    /// validation may look values up (secret managers); it runs off the supervisor's event handling.
    /// `fresh`: read every secret manager value again, ignoring values cached by earlier loads.
    public var validate: @Sendable (_ text: String, _ fresh: Bool) async throws(SupervisorError) -> ValidatedConfig
    /// How long a retired generation may keep draining in-flight calls and streams after a reload.
    public var reloadGrace: Duration
    /// How long workers may drain on SIGTERM/SIGINT before they are killed.
    public var shutdownGrace: Duration
    /// How long a new generation may take to report ready before the reload is abandoned.
    public var startTimeout: Duration
    /// How often the config file is checked for changes; nil turns watching off.
    public var watchInterval: Duration?
    /// How often a remote source (a bucket object) is asked whether it changed; nil: never
    /// (SIGHUP still re-fetches).
    public var pollInterval: Duration?
    /// Logged once when the first generation is ready, e.g. `Switchboard serving … on http://…`.
    public var servingMessage: String

    public init(
        workers: Int, workerArguments: [String], environment: [String], source: (any ConfigSource)?,
        validate: @escaping @Sendable (String, Bool) async throws(SupervisorError) -> ValidatedConfig,
        reloadGrace: Duration = .seconds(600), shutdownGrace: Duration = .seconds(30),
        startTimeout: Duration = .seconds(60), watchInterval: Duration? = .seconds(2), pollInterval: Duration? = nil,
        servingMessage: String
    ) {
        self.workers = workers
        self.workerArguments = workerArguments
        self.environment = environment
        self.source = source
        self.validate = validate
        self.reloadGrace = reloadGrace
        self.shutdownGrace = shutdownGrace
        self.startTimeout = startTimeout
        self.watchInterval = watchInterval
        self.pollInterval = pollInterval
        self.servingMessage = servingMessage
    }
}
