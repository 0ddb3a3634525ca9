import ArgumentParser
import Foundation
import Logging
import SecretManagers
import Server
import Supervisor
import SwitchboardConfig

/// The default command: a supervisor that binds the port once and runs `--num_workers` worker
/// processes on it, rolling them on SIGHUP (see docs/architecture.md).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the gateway with a supervisor and worker processes (default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        bootstrapLogging(debug: options.detailedDebug)
        let logger = Logger(label: "switchboard")
        // Captured before anything (a config's `environment_variables`) could change it: every
        // worker, in every generation, starts from this environment.
        let environment = ProcessInfo.processInfo.environment
        let runtime: RuntimeSettings
        let source: ConfigSource
        let initial: ValidatedConfig
        do {
            runtime = try RuntimeSettings(environment: environment)
            source = ConfigSource(option: options.config, environment: environment, strict: options.strictEnv || runtime.strictEnvironment)
            initial = try await source.validated(source.initialText(), fresh: true)
        } catch {
            logger.critical("config error: \(error)")
            throw ExitCode(1)
        }
        for warning in initial.warnings { logger.warning("config: \(warning)") }

        let workers = max(1, options.numWorkers ?? UsableCores.count)
        let loops = options.eventLoops ?? runtime.eventLoops ?? max(1, UsableCores.count / workers)
        let listener: ListeningSocket
        do {
            listener = try ListeningSocket(host: options.host, port: options.port)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        var workerArguments = ["--event_loops", String(loops)]
        if options.detailedDebug { workerArguments.append("--detailed_debug") }
        let settings = SupervisorSettings(
            workers: workers, workerArguments: workerArguments,
            environment: environment.map { "\($0.key)=\($0.value)" }, configPath: source.path,
            prepare: { text, fresh throws(SupervisorError) in try await source.validated(text, fresh: fresh) },
            reloadGrace: runtime.reloadGrace, shutdownGrace: runtime.shutdownGrace,
            watchInterval: runtime.watchInterval,
            servingMessage: "Switchboard serving \(source.description) on http://\(options.host):\(listener.port) with \(workers) workers × \(loops) event loops")
        logger.info("Proxy initialized with Config, Set models:\n\(initial.modelNames.map { "    " + $0 }.joined(separator: "\n"))")
        let supervisor: Supervisor
        do {
            supervisor = try Supervisor(settings: settings, listener: listener, initial: initial, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        let status = await supervisor.run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// Where the config comes from (`--config`, else `CONFIG_FILE_PATH`, else the built-in demo),
/// how its text is validated and where its secret manager's values come from.
struct ConfigSource: Sendable {
    let path: String?
    let environment: [String: String]
    /// Refuse unset `os.environ/` variables (`--strict_env`, `SWITCHBOARD_STRICT_ENV`).
    let strict: Bool
    /// Reads `os.environ/` values from the config's secret manager, caching them between loads.
    let secrets: SecretManagerResolver

    init(option: String?, environment: [String: String], strict: Bool) {
        path = option ?? environment["CONFIG_FILE_PATH"].flatMap { $0.isEmpty ? nil : $0 }
        self.environment = environment
        self.strict = strict
        secrets = SecretManagerClients.resolver()
    }

    /// A loader with this source's strictness.
    func loader(exporting: Bool) -> ConfigLoader {
        ConfigLoader(environment: environment, exportsEnvironmentVariables: exporting, strictEnvironment: strict)
    }

    var description: String { path ?? "the built-in demo config (pass --config to use yours)" }

    /// The text to serve at start. An unreadable file fails naming the path and the reason.
    func initialText() throws(ConfigError) -> String {
        guard let path else { return DemoConfig.yaml }
        if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
            return text
        }
        _ = try loader(exporting: false).load(path: path)
        throw ConfigError(path: "", message: "cannot read config file \(path)")
    }

    /// Loads `text` completely, `os.environ/` included (its secret manager's values read once
    /// here, `fresh` or from the cache, for every worker), without exporting anything into this
    /// process; the workers load the same text again with the values handed to them.
    func validated(_ text: String, fresh: Bool) async throws(SupervisorError) -> ValidatedConfig {
        let config: GatewayConfig
        let values: ResolvedSecrets
        do {
            (config, values) = try await loader(exporting: false).load(yaml: text, resolver: secrets, fresh: fresh)
        } catch {
            throw SupervisorError(error.description)
        }
        var fingerprints: [String: String] = [:]
        for name in config.modelNames {
            // Deployment ids hash each entry as written, so a changed entry changes its group's print.
            fingerprints[name] = config.deployments.filter { $0.modelName == name }.map(\.id).joined(separator: ",")
        }
        var handoff: [UInt8]?
        var refresh: Duration?
        if let manager = config.secretManager, manager.accessMode != .writeOnly {
            Logger(label: "switchboard").info("\(SecretManagerClients.summary(values, system: manager.system))")
            handoff = values.encoded()
            refresh = .seconds(SecretManagerResolver.refreshSeconds(for: manager.system, environment: environment))
        }
        return ValidatedConfig(text: text, modelNames: config.modelNames, fingerprints: fingerprints,
                               warnings: config.warnings.map(\.description), secrets: handoff, secretRefresh: refresh)
    }
}
