import ArgumentParser

/// One worker process. Started by the supervisor it serves the inherited listening socket and the
/// config snapshot it was handed; run by hand (or by Kubernetes, with no supervisor) it loads the
/// config and binds `--host`/`--port` itself.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one worker process: started by the supervisor, or alone (binds its own port; no reloads).")

    @OptionGroup var options: ServeOptions

    @Option(name: .customLong("listen_fd"), help: .hidden)
    var listenDescriptor: Int32?

    @Option(name: .customLong("link_fd"), help: .hidden)
    var linkDescriptor: Int32?

    @Option(name: .customLong("config_fd"), help: .hidden)
    var configDescriptor: Int32?

    @Option(name: .customLong("metrics_fd"), help: .hidden)
    var metricsDescriptor: Int32?

    @Option(name: .customLong("metrics_slot"), help: .hidden)
    var metricsSlot: Int?

    @Option(name: .customLong("secrets_fd"), help: .hidden)
    var secretsDescriptor: Int32?

    @Option(name: .customLong("generation"), help: .hidden)
    var generation: Int = 0

    func validate() throws {
        let given = [listenDescriptor, linkDescriptor, configDescriptor].compactMap { $0 }.count
        guard given == 0 || given == 3 else {
            throw ValidationError("--listen_fd, --link_fd and --config_fd come together (from the supervisor)")
        }
    }

    func run() async throws {
        var supervision: WorkerRunner.Supervision?
        if let listenDescriptor, let linkDescriptor, let configDescriptor {
            supervision = .init(listenDescriptor: listenDescriptor, linkDescriptor: linkDescriptor,
                                configDescriptor: configDescriptor, generation: generation,
                                metricsDescriptor: metricsDescriptor, metricsSlot: metricsSlot,
                                secretsDescriptor: secretsDescriptor)
        }
        try await WorkerRunner(options: options, supervision: supervision).run()
    }
}
