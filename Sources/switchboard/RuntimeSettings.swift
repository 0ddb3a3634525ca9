import Foundation

/// The `SWITCHBOARD_*` environment knobs for processes and draining, read once.
struct RuntimeSettings {
    /// SIGTERM/SIGINT: how long in-flight calls may run (`SWITCHBOARD_DRAIN_SECONDS`, default 30,
    /// Kubernetes' default termination grace).
    var shutdownGrace: Duration
    /// Reload: how long a retired generation may finish its calls and streams
    /// (`SWITCHBOARD_RELOAD_DRAIN_SECONDS`, default 600, the default request timeout).
    var reloadGrace: Duration
    /// How often the config file is checked (`SWITCHBOARD_WATCH_CONFIG_SECONDS`, default 2; 0 = off).
    var watchInterval: Duration?
    /// Event loops per worker (`SWITCHBOARD_EVENT_LOOPS`), when set.
    var eventLoops: Int?
    /// Seconds a client connection may idle (`SWITCHBOARD_IDLE_TIMEOUT_SECONDS`, default 120).
    var idleTimeout: Double

    init(_ environment: [String: String]) {
        func seconds(_ name: String, _ fallback: Double) -> Double {
            Double(environment[name] ?? "").flatMap { $0 >= 0 ? $0 : nil } ?? fallback
        }
        shutdownGrace = .milliseconds(Int(seconds("SWITCHBOARD_DRAIN_SECONDS", 30) * 1000))
        reloadGrace = .milliseconds(Int(seconds("SWITCHBOARD_RELOAD_DRAIN_SECONDS", 600) * 1000))
        let watch = seconds("SWITCHBOARD_WATCH_CONFIG_SECONDS", 2)
        watchInterval = watch > 0 ? .milliseconds(Int(watch * 1000)) : nil
        eventLoops = Int(environment["SWITCHBOARD_EVENT_LOOPS"] ?? "").flatMap { $0 > 0 ? $0 : nil }
        idleTimeout = seconds("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", 120)
    }
}
