import Metrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts worker processes: its own binary with the `worker` subcommand, the listening socket as
/// descriptor 3, its link as 4, the generation's config snapshot as 5, the shared metrics
/// region as 6 (with its slot number) and, when the config names a secret manager, the
/// generation's secret values as 7 (``SecretHandoff``).
struct WorkerLauncher {
    static let listenDescriptor: Int32 = 3
    static let linkDescriptor: Int32 = 4
    static let configDescriptor: Int32 = 5

    let listener: ListeningSocket
    let settings: SupervisorSettings
    let events: AsyncStream<SupervisorEvent>.Continuation
    let metrics: MetricsRegion?

    /// Spawns a worker and starts reading its link; its messages and its exit arrive as events.
    func launch(id: Int, generation: Generation, slot: Int, metricsSlot: Int?) throws(SupervisorError) -> WorkerRecord {
        let (mine, theirs) = try WorkerLink.makePair()
        defer { theirs.close() }
        let arguments = [
            CommandLine.arguments.first ?? "switchboard", "worker",
            "--listen_fd", String(Self.listenDescriptor), "--link_fd", String(Self.linkDescriptor),
            "--config_fd", String(Self.configDescriptor), "--generation", String(generation.number),
        ] + settings.workerArguments
        var descriptors = [(listener.descriptor, Self.listenDescriptor), (theirs.descriptor, Self.linkDescriptor),
                           (generation.snapshot.descriptor, Self.configDescriptor)]
        var metricsArguments: [String] = []
        if let secrets = generation.secrets {
            descriptors.append((secrets.descriptor, SecretHandoff.workerDescriptor))
            metricsArguments = ["--secrets_fd", String(SecretHandoff.workerDescriptor)]
        }
        if let metrics, let metricsSlot {
            descriptors.append((metrics.descriptor, MetricsRegion.workerDescriptor))
            metricsArguments += ["--metrics_fd", String(MetricsRegion.workerDescriptor), "--metrics_slot", String(metricsSlot)]
        }
        let pid: pid_t
        do {
            pid = try ProcessSpawner.spawn(
                executable: ProcessSpawner.ownExecutable, arguments: arguments + metricsArguments,
                environment: settings.environment, descriptors: descriptors)
        } catch {
            mine.close()
            throw error
        }
        let events = self.events
        mine.startReading { message in
            events.yield(.message(worker: id, message))
        } onEnd: {
            // The link closes when the worker exits (or, if it closed it early, soon after).
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            mine.close()
            events.yield(.exited(worker: id, status: status))
        }
        return WorkerRecord(id: id, pid: pid, generation: generation.number, slot: slot, link: mine, started: .now,
                            metricsSlot: metricsSlot)
    }
}

/// Everything the supervisor reacts to, delivered one at a time to its loop.
enum SupervisorEvent: Sendable {
    case signal(Int32)
    case message(worker: Int, LinkMessage)
    case exited(worker: Int, status: Int32)
    case restart(generation: Int, slot: Int)
    case startTimeout(generation: Int)
    case configFileChanged
    /// The poll interval of a remote config source passed.
    case pollConfig
    /// A reload's fetch and validation finished.
    case configLoaded(trigger: ReloadTrigger, ConfigLoad)
    /// The current generation's secret values are due to be read again (`token`: which schedule).
    case refreshSecrets(token: Int)
    case killRetired(worker: Int)
    case shutdownDeadline
}
