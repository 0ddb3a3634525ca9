import ConfigSources
import Logging
import Metrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns the port and runs generations of worker processes; serves no traffic itself.
///
/// - SIGHUP (or a change of the config file, or a changed bucket object seen by the poll): fetch
///   and validate the config off the event handling; if the fetch fails or the config is
///   invalid, log why and keep serving; if valid, start a new generation, wait until all its
///   workers are ready, then retire the old one (stop accepting, drain, exit).
/// - A config naming a secret manager: its values are read once per reload for all workers (handed
///   over in a ``SecretHandoff``) and read again when their refresh interval passes; a changed
///   value rolls a new generation as a reload does.
/// - SIGTERM/SIGINT: close the port, tell every worker to drain, exit 0 when they are gone.
/// - A worker that dies unasked is restarted in its slot with ``RestartBackoff``.
///
/// ```swift
/// let listener = try ListeningSocket(host: "0.0.0.0", port: 4000)
/// let code = await Supervisor(settings: settings, listener: listener, initial: config, logger: logger).run()
/// ```
public final class Supervisor {
    private let settings: SupervisorSettings
    private let listener: ListeningSocket
    private let logger: Logger
    private let events: AsyncStream<SupervisorEvent>
    private let continuation: AsyncStream<SupervisorEvent>.Continuation
    private var launcher: WorkerLauncher {
        WorkerLauncher(listener: listener, settings: settings, events: continuation, metrics: metrics)
    }
    /// The shared metrics region every worker writes its slot of (see docs/architecture.md).
    private let metrics: MetricsRegion?
    /// The worker holding each metrics slot (`nil`: free). A slot is freed only when its worker
    /// has been reaped, so a slot never has two writers.
    private var metricsSlots: [Int?]

    private var workers: [Int: WorkerRecord] = [:]
    private var nextWorkerID = 1
    private var current: Generation
    /// A generation starting during a reload, not yet serving.
    private var pending: Generation?
    /// Old workers that must report `closed` (or exit) before a reload counts as done.
    private var awaitingClosed: Set<Int> = []
    private var promotion: (from: Generation, to: Generation)?
    private var reloadQueued = false
    /// A reload's fetch and validation is running.
    private var loading = false
    /// The version of the object the last fetch returned (accepted or not): a poll asks whether
    /// the object changed since, so an object that was rejected is not fetched again until it changes.
    private var lastSeenVersion: String?
    /// The last failure a poll logged (logged again only when it changes).
    private var lastPollFailure: String?
    /// The latest secret refresh scheduled; an earlier one that fires is stale and ignored.
    private var secretRefreshToken = 0
    private var announced = false
    private var shuttingDown = false

    /// - Parameters:
    ///   - initial: the config the first generation serves (validated by the caller).
    ///   - initialVersion: the version of the object it was fetched as (ETag, generation), if any.
    public init(settings: SupervisorSettings, listener: ListeningSocket, initial: ValidatedConfig, initialVersion: String? = nil,
                logger: Logger) throws(SupervisorError) {
        self.settings = settings
        self.listener = listener
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: SupervisorEvent.self)
        current = try Generation(number: 1, config: initial, count: settings.workers)
        let slots = max(16, settings.workers * 8)
        do {
            metrics = try MetricsRegion.create(slots: slots)
        } catch {
            logger.error("metrics across workers are off: \(error)")
            metrics = nil
        }
        metricsSlots = Array(repeating: nil, count: slots)
        lastSeenVersion = initialVersion
    }

    /// Runs until SIGTERM/SIGINT and every worker has exited. Returns the process exit status.
    public func run() async -> Int32 {
        let continuation = self.continuation
        let signals = SignalEvents([SIGHUP, SIGTERM, SIGINT]) { continuation.yield(.signal($0)) }
        var watcher: ConfigFileWatcher?
        if let path = settings.source?.watchedPath, let interval = settings.watchInterval {
            watcher = ConfigFileWatcher(path: path, interval: interval) { continuation.yield(.configFileChanged) }
        }
        var poller: Task<Void, Never>?
        if let source = settings.source, source.watchedPath == nil, let interval = settings.pollInterval {
            poller = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    continuation.yield(.pollConfig)
                }
            }
        }
        for slot in 0..<current.count { start(slot: slot, of: current) }
        scheduleSecretRefresh(current)
        for await event in events {
            handle(event)
            if shuttingDown && workers.isEmpty { break }
        }
        watcher?.stop()
        poller?.cancel()
        withExtendedLifetime(signals) {}
        logger.info("Switchboard stopped")
        return 0
    }

    // MARK: Events

    private func handle(_ event: SupervisorEvent) {
        switch event {
        case .signal(SIGHUP):
            reload(trigger: .sighup)
        case .signal(let sig):
            shutdown(signal: sig)
        case .configFileChanged:
            reload(trigger: .fileChange)
        case .pollConfig:
            reload(trigger: .poll)
        case .configLoaded(let trigger, let load):
            configLoaded(load, trigger: trigger)
        case .refreshSecrets(let token):
            if token == secretRefreshToken { reload(trigger: .secretRefresh) }
        case .message(let id, .ready):
            workerReady(id)
        case .message(let id, .closed):
            oldWorkerClosed(id)
        case .message:
            break
        case .exited(let id, let status):
            workerExited(id, status: status)
        case .restart(let number, let slot):
            if number == current.number && current.slots[slot] == nil && !shuttingDown { start(slot: slot, of: current) }
        case .startTimeout(let number):
            if let generation = pending, generation.number == number {
                abandonReload("its workers were not ready after \(settings.startTimeout)", kill: SIGKILL)
            }
        case .killRetired(let id):
            if let worker = workers[id] {
                logger.warning("worker pid \(worker.pid) (generation \(worker.generation)) still draining after the grace period: killing it")
                kill(worker.pid, SIGKILL)
            }
        case .shutdownDeadline:
            for worker in workers.values {
                logger.warning("worker pid \(worker.pid) still draining after the grace period: killing it")
                kill(worker.pid, SIGKILL)
            }
        }
    }

    private func start(slot: Int, of generation: Generation) {
        let id = nextWorkerID
        nextWorkerID += 1
        let metricsSlot = metricsSlots.firstIndex { $0 == nil }
        if metrics != nil && metricsSlot == nil {
            logger.error("no free metrics slot for a new worker (generation \(generation.number), slot \(slot)): its metrics stay out of /metrics until old workers exit")
        }
        do {
            let worker = try launcher.launch(id: id, generation: generation, slot: slot, metricsSlot: metrics == nil ? nil : metricsSlot)
            if let s = worker.metricsSlot { metricsSlots[s] = id }
            workers[id] = worker
            generation.slots[slot] = id
            logger.debug("worker pid \(worker.pid) started (generation \(generation.number), slot \(slot))")
        } catch {
            logger.error("cannot start a worker (generation \(generation.number), slot \(slot)): \(error)")
            scheduleRestart(slot: slot, of: generation, uptime: .zero)
        }
    }

    private func workerReady(_ id: Int) {
        guard var worker = workers[id] else { return }
        worker.ready = true
        workers[id] = worker
        if let generation = pending, generation.number == worker.generation {
            if isReady(generation) { promote(generation) }
        } else if worker.generation == current.number && !announced && isReady(current) {
            announced = true
            logger.info("\(settings.servingMessage)")
        }
    }

    private func isReady(_ generation: Generation) -> Bool {
        (0..<generation.count).allSatisfy { slot in generation.slots[slot].flatMap { workers[$0]?.ready } ?? false }
    }

    private func workerExited(_ id: Int, status: Int32) {
        guard let worker = workers.removeValue(forKey: id) else { return }
        if let s = worker.metricsSlot {
            metrics?.setOwner(ofSlot: s, 0)
            metricsSlots[s] = nil
        }
        if shuttingDown || worker.retiring {
            logger.info("worker pid \(worker.pid) (generation \(worker.generation)) exited: \(describeExit(status))")
            oldWorkerClosed(id)
            return
        }
        if let generation = pending, generation.number == worker.generation {
            generation.slots[worker.slot] = nil
            abandonReload("worker pid \(worker.pid) exited (\(describeExit(status))) before it was ready", kill: SIGTERM)
            return
        }
        guard worker.generation == current.number else { return }
        current.slots[worker.slot] = nil
        logger.error("worker pid \(worker.pid) (generation \(worker.generation), slot \(worker.slot)) died: \(describeExit(status))")
        scheduleRestart(slot: worker.slot, of: current, uptime: worker.started.duration(to: .now))
    }

    private func scheduleRestart(slot: Int, of generation: Generation, uptime: Duration) {
        var backoff = generation.backoff[slot] ?? RestartBackoff()
        let delay = backoff.recordCrash(uptime: uptime)
        generation.backoff[slot] = backoff
        if backoff.isCrashLoop {
            logger.error("crash loop: worker slot \(slot) (generation \(generation.number)) failed \(backoff.crashes) times in a row; next restart in \(delay)")
        } else {
            logger.info("restarting worker slot \(slot) (generation \(generation.number)) in \(delay)")
        }
        after(delay, .restart(generation: generation.number, slot: slot))
    }

    // MARK: Reload

    private func reload(trigger: ReloadTrigger) {
        guard !shuttingDown else { return }
        if pending != nil || promotion != nil || loading {
            // A poll comes again by itself; a due secret refresh waits for its next turn; a signal
            // or a file change is remembered.
            if trigger == .secretRefresh { scheduleSecretRefresh(current) } else if trigger != .poll { reloadQueued = true }
            return
        }
        guard let source = settings.source else {
            logger.warning("\(trigger): nothing to reload (serving the built-in demo config; pass --config)")
            return
        }
        loading = true
        let version = trigger == .poll ? lastSeenVersion : nil
        let (continuation, validate) = (self.continuation, settings.validate)
        if trigger == .secretRefresh {
            // The secrets may have changed; the source is another matter (SIGHUP, watch, poll).
            let text = current.config.text
            Task { continuation.yield(.configLoaded(trigger: trigger, await ConfigLoad.refresh(text, validate: validate))) }
            return
        }
        let fresh = trigger.readsSecretsFresh
        Task {
            let load = await ConfigLoad.load(from: source, ifChangedFrom: version, fresh: fresh, validate: validate)
            continuation.yield(.configLoaded(trigger: trigger, load))
        }
    }

    /// A reload's fetch and validation finished: start a generation, or log why not.
    private func configLoaded(_ load: ConfigLoad, trigger: ReloadTrigger) {
        loading = false
        guard !shuttingDown else { return }
        switch load {
        case .unchanged:
            lastPollFailure = nil
        case .failed(let reason, let version):
            if let version { lastSeenVersion = version }
            if trigger == .poll {
                guard reason != lastPollFailure else { break }
                lastPollFailure = reason
            }
            logger.error("reload rejected (\(trigger)): \(reason); generation \(current.number) keeps serving")
            if trigger == .secretRefresh { scheduleSecretRefresh(current) }
        case .loaded(let config, let version):
            lastPollFailure = nil
            if let version { lastSeenVersion = version }
            if trigger == .secretRefresh {
                guard config.secrets != current.config.secrets else {
                    logger.debug("secret refresh: no value changed")
                    scheduleSecretRefresh(current)
                    break
                }
            } else if trigger != .sighup && config.text == current.config.text {
                break
            }
            startGeneration(config, trigger: trigger)
        }
        if pending == nil && reloadQueued {
            reloadQueued = false
            reload(trigger: .sighup)
        }
    }

    private func startGeneration(_ config: ValidatedConfig, trigger: ReloadTrigger) {
        for warning in config.warnings { logger.warning("config: \(warning)") }
        let generation: Generation
        do {
            generation = try Generation(number: current.number + 1, config: config, count: settings.workers)
        } catch {
            logger.error("reload rejected (\(trigger)): \(error); generation \(current.number) keeps serving")
            if trigger == .secretRefresh { scheduleSecretRefresh(current) }
            return
        }
        logger.info("\(trigger == .secretRefresh ? "secret refresh: a secret changed" : "reload (\(trigger))"): starting generation \(generation.number) with \(generation.count) workers from \(settings.source?.description ?? "the config")")
        pending = generation
        for slot in 0..<generation.count { start(slot: slot, of: generation) }
        after(settings.startTimeout, .startTimeout(generation: generation.number))
    }

    /// Reads the generation's secrets again when they are due (only a config with a secret manager).
    private func scheduleSecretRefresh(_ generation: Generation) {
        secretRefreshToken += 1
        guard generation.config.secrets != nil, let interval = generation.config.secretRefresh else { return }
        after(interval, .refreshSecrets(token: secretRefreshToken))
    }

    /// The new generation is ready: the old one stops accepting and drains.
    private func promote(_ generation: Generation) {
        let old = current
        current = generation
        pending = nil
        promotion = (old, generation)
        scheduleSecretRefresh(generation)
        for (id, worker) in workers where worker.generation == old.number {
            workers[id]?.retiring = true
            awaitingClosed.insert(id)
            if !worker.link.send(.retire) { kill(worker.pid, SIGTERM) }
            after(settings.reloadGrace + .seconds(10), .killRetired(worker: id))
        }
        finishPromotionIfClosed()
    }

    private func oldWorkerClosed(_ id: Int) {
        awaitingClosed.remove(id)
        finishPromotionIfClosed()
    }

    private func finishPromotionIfClosed() {
        guard awaitingClosed.isEmpty, let (old, new) = promotion else { return }
        promotion = nil
        logger.info("generation \(new.number) serving with \(new.count) workers; generation \(old.number) draining; \(new.modelChanges(from: old))")
        if reloadQueued {
            reloadQueued = false
            reload(trigger: .sighup)
        }
    }

    private func abandonReload(_ reason: String, kill sig: Int32) {
        guard let generation = pending else { return }
        pending = nil
        reloadQueued = false
        logger.error("reload to generation \(generation.number) failed: \(reason); generation \(current.number) keeps serving")
        scheduleSecretRefresh(current)
        for (id, worker) in workers where worker.generation == generation.number {
            workers[id]?.retiring = true
            kill(worker.pid, sig)
        }
    }

    // MARK: Shutdown

    private func shutdown(signal sig: Int32) {
        if shuttingDown {
            logger.warning("\(SignalEvents.name(sig)) again: killing the workers now")
            for worker in workers.values { kill(worker.pid, SIGKILL) }
            return
        }
        shuttingDown = true
        pending = nil
        promotion = nil
        listener.close()
        logger.info("\(SignalEvents.name(sig)): stopping; \(workers.count) workers drain (up to \(settings.shutdownGrace))")
        for worker in workers.values { kill(worker.pid, SIGTERM) }
        after(settings.shutdownGrace + .seconds(5), .shutdownDeadline)
        if workers.isEmpty { continuation.yield(.shutdownDeadline) }
    }

    private func after(_ delay: Duration, _ event: SupervisorEvent) {
        let continuation = self.continuation
        Task {
            try? await Task.sleep(for: delay)
            continuation.yield(event)
        }
    }
}
