import SwitchboardConfig

/// The process-level settings as the supervisor and workers use them.
extension RuntimeSettings {
    /// SIGTERM/SIGINT: how long in-flight calls may run.
    var shutdownGrace: Duration { .milliseconds(Int(drainSeconds * 1000)) }
    /// Reload: how long a retired generation may finish its calls and streams.
    var reloadGrace: Duration { .milliseconds(Int(reloadDrainSeconds * 1000)) }
    /// How often the config file is checked; `nil`: never.
    var watchInterval: Duration? { watchConfigSeconds > 0 ? .milliseconds(Int(watchConfigSeconds * 1000)) : nil }
    /// How often a bucket config is asked whether it changed; `nil`: never.
    var pollInterval: Duration? { configPollSeconds > 0 ? .milliseconds(Int(configPollSeconds * 1000)) : nil }
}
