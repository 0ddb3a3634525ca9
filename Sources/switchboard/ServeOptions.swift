import ArgumentParser

/// Options shared by `serve` (the default) and `worker`, spelled as LiteLLM's CLI spells them.
struct ServeOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Path to config.yaml (else $CONFIG_FILE_PATH, else the built-in demo config).")
    var config: String?

    @Option(name: .customLong("host"), help: "Address to listen on.")
    var host: String = "0.0.0.0"

    @Option(name: .customLong("port"), help: "Port to listen on.")
    var port: Int = 4000

    @Flag(name: .customLong("detailed_debug"), help: "Log every request and response (credentials redacted).")
    var detailedDebug = false

    @Option(name: .customLong("num_workers"), help: "Number of worker processes (default: the usable CPUs).")
    var numWorkers: Int?

    @Option(name: .customLong("event_loops"), help: "Event-loop threads per worker (else $SWITCHBOARD_EVENT_LOOPS, else usable CPUs / workers).")
    var eventLoops: Int?

    @Flag(name: .customLong("strict_env"), help: "Refuse a config naming an unset os.environ/ variable (else: warn, and fail only the calls that need it). Also SWITCHBOARD_STRICT_ENV=1.")
    var strictEnv = false
}
