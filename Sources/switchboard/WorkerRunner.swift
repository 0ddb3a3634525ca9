import ArgumentParser
import Callbacks
import Foundation
import Logging
import Metrics
import NIOPosix
import SecretManagers
import Server
import Supervisor
import SwitchboardConfig

/// Runs one gateway worker process until it has drained.
struct WorkerRunner {
    /// What a supervised worker inherits.
    struct Supervision {
        var listenDescriptor: Int32
        var linkDescriptor: Int32
        var configDescriptor: Int32
        var generation: Int
        /// The shared metrics region and this worker's slot of it (absent: no free slot).
        var metricsDescriptor: Int32?
        var metricsSlot: Int?
        /// The secret manager's values the supervisor read for this generation (``SecretHandoff``).
        var secretsDescriptor: Int32?
    }

    let options: ServeOptions
    let supervision: Supervision?

    func run() async throws {
        bootstrapLogging(debug: options.detailedDebug)
        let environment = ProcessInfo.processInfo.environment
        let logger = Logger(label: supervision.map { "switchboard.worker[\(getpid()) gen \($0.generation)]" } ?? "switchboard")
        let runtime: RuntimeSettings
        let source: ConfigSetup
        let config: GatewayConfig
        do {
            runtime = try RuntimeSettings(environment: environment)
            source = try ConfigSetup(option: options.config, environment: environment, strict: options.strictEnv || runtime.strictEnvironment)
            // `environment_variables` are exported here, before any thread reads the environment.
            if let supervision {
                // The supervisor read the secret manager once for every worker: never again here.
                var loader = source.loader(exporting: true)
                if let fd = supervision.secretsDescriptor {
                    loader.secrets = try ResolvedSecrets(decoding: SecretHandoff.read(descriptor: fd))
                    _ = close(fd)
                }
                config = try loader.load(yaml: ConfigSnapshot.read(descriptor: supervision.configDescriptor))
            } else {
                // Alone: fetch the config itself (file or bucket object) and read its secret manager.
                for warning in source.warnings { logger.warning("\(warning)") }
                let secrets: ResolvedSecrets
                (config, secrets) = try await source.loader(exporting: true).load(yaml: await source.initialText().text, resolver: source.secrets)
                if let manager = config.secretManager, manager.accessMode != .writeOnly {
                    logger.info("\(SecretManagerClients.summary(secrets, system: manager.system))")
                }
            }
        } catch {
            logger.critical("config error: \(error)")
            throw ExitCode(1)
        }
        // A supervisor logged these already.
        if supervision == nil { for warning in config.warnings { logger.warning("config: \(warning.description)") } }

        let loops = options.eventLoops ?? runtime.eventLoops ?? UsableCores.count
        var metricsSlot: MetricsSlot?
        if let fd = supervision?.metricsDescriptor, let index = supervision?.metricsSlot {
            do {
                metricsSlot = MetricsSlot(region: try MetricsRegion.attach(descriptor: fd), index: index, owner: getpid())
            } catch {
                logger.error("\(error); this worker's metrics are its own only")
            }
        }
        let gateway = GatewayContext(
            config: config, environment: ProcessInfo.processInfo.environment, logger: logger,
            detailedDebug: options.detailedDebug, idleTimeout: runtime.idleTimeoutSeconds,
            maxUpstreamBodyBytes: runtime.maxUpstreamBodyBytes, maxConnections: runtime.maxConnections,
            metricsSlot: metricsSlot)
        if gateway.observability.jsonLogs { LogFormat.isJSON = true }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        // Read again: the config's `environment_variables` (SLACK_WEBHOOK_URL, LANGFUSE_*, ...) are exported now.
        let callbacks = Callbacks(
            config: config, environment: ProcessInfo.processInfo.environment, group: group, logger: logger, metrics: gateway.metricsSlot,
            sharedClaims: gateway.sharedClaims)
        let server = GatewayServer(gateway: gateway, group: group, sinks: { callbacks.sinks(on: $0) }, monitors: callbacks.monitors)
        do {
            if let supervision {
                try await server.start(inheritedListener: supervision.listenDescriptor)
            } else {
                let port = try await server.start(host: options.host, port: options.port)
                logger.info("Proxy initialized with Config, Set models:\n\(config.modelNames.map { "    " + $0 }.joined(separator: "\n"))")
                logger.info("Switchboard serving \(source.description) on http://\(options.host):\(port) with \(loops) event loops (worker only: no reloads)")
            }
        } catch {
            logger.critical("cannot listen on \(options.host):\(options.port): \(error)")
            throw ExitCode(1)
        }

        let drain = WorkerDrain(server: server, logger: logger)
        let supervised = supervision != nil
        let signals = SignalEvents([SIGTERM, SIGINT, SIGHUP]) { sig in
            if sig == SIGHUP {
                // The supervisor reloads; a lone worker cannot (restart it with the new config).
                if !supervised { logger.warning("SIGHUP ignored: a worker alone does not reload (run `switchboard` without `worker`)") }
                return
            }
            drain.begin(grace: runtime.shutdownGrace, reason: SignalEvents.name(sig))
        }
        var link: WorkerLink?
        if let supervision {
            let supervisorLink = WorkerLink(descriptor: supervision.linkDescriptor)
            supervisorLink.startReading { message in
                if message == .retire { drain.begin(grace: runtime.reloadGrace, reason: "retired by a reload") }
            } onEnd: {
                drain.begin(grace: runtime.shutdownGrace, reason: "the supervisor is gone")
            }
            supervisorLink.send(.ready)
            link = supervisorLink
        }
        try await server.waitUntilClosed()
        link?.send(.closed)
        await drain.finish()
        await callbacks.stop()
        withExtendedLifetime(signals) {}
        logger.info(supervised ? "worker stopped" : "Switchboard stopped")
    }
}
