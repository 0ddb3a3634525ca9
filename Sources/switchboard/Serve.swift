import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import Server
import SwitchboardConfig

/// Loads the configuration and serves it (the default command).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the gateway (default).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await GatewayRunner(options: options).run()
    }
}

/// A worker process: serves the configuration on the given port.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one worker process (started by the supervisor).")

    @OptionGroup var options: ServeOptions

    func run() async throws {
        try await GatewayRunner(options: options).run()
    }
}

/// Starts one gateway process from CLI options.
struct GatewayRunner {
    let options: ServeOptions

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = options.detailedDebug ? .debug : .info
            return handler
        }
        let logger = Logger(label: "switchboard")
        let environment = ProcessInfo.processInfo.environment
        let settings: RuntimeSettings
        let config: GatewayConfig
        let source: String
        do {
            settings = try RuntimeSettings(environment: environment)
            let loader = ConfigLoader(environment: environment,
                                      strictEnvironment: options.strictEnv || settings.strictEnvironment)
            if let path = options.config ?? environment["CONFIG_FILE_PATH"].flatMap({ $0.isEmpty ? nil : $0 }) {
                config = try loader.load(path: path)
                source = path
            } else {
                config = try loader.load(yaml: DemoConfig.yaml)
                source = "the built-in demo config (pass --config to use yours)"
            }
        } catch {
            logger.critical("config error: \(error.description)")
            throw ExitCode(1)
        }
        for warning in config.warnings { logger.warning("config: \(warning.description)") }

        let gateway = GatewayContext(
            config: config, environment: ProcessInfo.processInfo.environment, logger: logger,
            detailedDebug: options.detailedDebug,
            idleTimeout: settings.idleTimeoutSeconds, maxUpstreamBodyBytes: settings.maxUpstreamBodyBytes,
            maxConnections: settings.maxConnections)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: UsableCores.count)
        let server = GatewayServer(gateway: gateway, group: group)
        let port: Int
        do {
            port = try await server.start(host: options.host, port: options.port)
        } catch {
            logger.critical("cannot listen on \(options.host):\(options.port): \(error)")
            throw ExitCode(1)
        }
        logger.info("Proxy initialized with Config, Set models:\n\(config.modelNames.map { "    " + $0 }.joined(separator: "\n"))")
        logger.info("Switchboard serving \(source) on http://\(options.host):\(port) with \(UsableCores.count) event loops")
        ShutdownSignals.install(server: server, logger: logger)
        try await server.waitUntilClosed()
        let grace = settings.drainSeconds
        if gateway.inFlight > 0 {
            logger.info("draining \(gateway.inFlight) in-flight calls (up to \(grace) s)")
        }
        let left = await server.waitForInFlightCalls(grace: .milliseconds(Int(grace * 1000)))
        if left > 0 { logger.warning("stopped with \(left) calls still in flight after \(grace) s") }
        logger.info("Switchboard stopped")
    }
}
