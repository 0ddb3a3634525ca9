import ArgumentParser
import Foundation
import Logging
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
        let source: ConfigSetup
        let initial: ValidatedConfig
        let initialVersion: String?
        do {
            runtime = try RuntimeSettings(environment: environment)
            source = try ConfigSetup(option: options.config, environment: environment, strict: options.strictEnv || runtime.strictEnvironment)
            for warning in source.warnings { logger.warning("\(warning)") }
            let text: String
            (text, initialVersion) = try await source.initialText()
            initial = try await source.validated(text, fresh: true)
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
            environment: environment.map { "\($0.key)=\($0.value)" }, source: source.source,
            validate: { text, fresh throws(SupervisorError) in try await source.validated(text, fresh: fresh) },
            reloadGrace: runtime.reloadGrace, shutdownGrace: runtime.shutdownGrace,
            watchInterval: runtime.watchInterval, pollInterval: runtime.pollInterval,
            servingMessage: "Switchboard serving \(source.description) on http://\(options.host):\(listener.port) with \(workers) workers × \(loops) event loops")
        logger.info("Proxy initialized with Config, Set models:\n\(initial.modelNames.map { "    " + $0 }.joined(separator: "\n"))")
        let supervisor: Supervisor
        do {
            supervisor = try Supervisor(settings: settings, listener: listener, initial: initial, initialVersion: initialVersion, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        let status = await supervisor.run()
        if status != 0 { throw ExitCode(status) }
    }
}
