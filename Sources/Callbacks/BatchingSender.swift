import Logging
import NIOCore
import Synchronization

/// A bounded queue of entries for one endpoint, flushed off the request path: every
/// `interval`, or as soon as `batchSize` events wait. Adding is O(1) under a short lock and
/// never waits; when the queue is full the entry is dropped and counted (``dropped``, the
/// `onDrop` hook for the metric, and a log line at most once a minute).
///
/// An entry is one event (a Slack alert) or several already encoded (a ``CallBatch`` of the
/// calls an event loop logged): `add(_:events:)` says how many, and the queue's capacity,
/// its batches and its counts are in events.
///
/// Delivery: a batch is taken from the queue, passed through `filter` (once), encoded and
/// POSTed. A transport error, a timeout, a 5xx or a 429 keeps the encoded batch and retries it
/// with exponential backoff (200 ms doubling to `maxBackoff`) until it is delivered, while new
/// entries keep queueing up to `capacity`: nothing is lost while the queue has room. Any other
/// answer (a 4xx: the endpoint refuses the payload) drops the batch, counted in ``rejected``.
///
/// Everything after `add` runs on one event loop of the client's group (``loop``), as
/// callbacks of the POSTs' futures and of a repeated task for the interval: no Swift task, so
/// a full batch costs no thread wake-up. On a worker's loop that filled the batch, the POST
/// leaves in the same tick. (With tasks, each POST cost four context switches, ≈ 45 µs of the
/// one core the gateway shares with them.)
public final class BatchingSender<Entry: Sendable>: Sendable {
    public struct Settings: Sendable {
        /// For log lines and alerts (never the URL: a webhook URL can hold a secret).
        public var name: String
        public var url: String
        public var headers: [(String, String)]
        /// The body's `Content-Type`.
        public var contentType = "application/json"
        public var interval: Duration = .seconds(5)
        public var batchSize = 512
        public var capacity = 10_000
        public var maxBackoff: Duration = .seconds(30)
        public init(name: String, url: String, headers: [(String, String)]) {
            self.name = name
            self.url = url
            self.headers = headers
        }
    }

    /// How one batch becomes a request body.
    public typealias Encode = @Sendable ([Entry]) -> ByteBuffer
    /// How one batch becomes a request body, written into an empty buffer that may keep the
    /// capacity of an earlier batch's (reused: a fresh megabyte a batch costs page faults).
    public typealias EncodeInto = @Sendable ([Entry], inout ByteBuffer) -> Void
    /// Runs once per batch before it is encoded (deduplication); may drop entries.
    public typealias Filter = @Sendable ([Entry]) async -> [Entry]

    /// Called off the request path.
    public struct Hooks: Sendable {
        /// `n` entries were dropped because the queue was full.
        public var dropped: @Sendable (Int) -> Void = { _ in }
        /// A delivery failed (it is retried when the failure is temporary).
        public var deliveryFailed: @Sendable (_ reason: String) -> Void = { _ in }
        /// Before each timed or final flush: what is still being gathered elsewhere (the event
        /// loops' open ``CallBatch``es), with the events each holds, to queue.
        public var collect: @Sendable () -> [(Entry, Int)] = { [] }
        /// A delivered batch's buffer, once its POST has let go of it, for whoever makes the
        /// batches (the event loops' open ``CallBatch``es) to fill again; `nil`: the sender keeps
        /// it for its own next batch.
        public var recycle: (@Sendable (ByteBuffer) -> Void)?
        public init() {}
    }

    let settings: Settings
    let client: WebhookClient
    let logger: Logger
    let encode: EncodeInto
    let filter: Filter?
    /// The events an entry holds.
    let entryEvents: @Sendable (Entry) -> Int
    let hooks: Hooks
    /// Where the deliveries run, one at a time, as callbacks of the POSTs' futures: a batch
    /// filled on this loop is POSTed from it with no task and no thread hop, and the answer is
    /// read on it (``HTTPKeepAliveClient`` keeps its connections there).
    let loop: any EventLoop
    /// The entries waiting, and the events they hold.
    private let queue = Mutex<(entries: [Entry], events: Int)>(([], 0))
    private let droppedCount = Atomic<Int>(0)
    private let sentCount = Atomic<Int>(0)
    private let rejectedCount = Atomic<Int>(0)
    private let failureCount = Atomic<Int>(0)
    /// The events of the batch kept for a retry.
    private let retryingCount = Atomic<Int>(0)
    private let lastDropLog = Mutex<ContinuousClock.Instant?>(nil)
    private let lastFailureLog = Mutex<ContinuousClock.Instant?>(nil)
    /// A pass is asked for on `loop` and not yet begun (one `execute` however many batches fill meanwhile).
    private let kicked = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let ticker = Mutex<RepeatedTask?>(nil)
    private let delivery: NIOLoopBoundBox<Delivery>
    private static var maxSpareBytes: Int { 4 << 20 }

    /// What the deliveries share, on `loop` only.
    struct Delivery: Sendable {
        /// A pass is delivering.
        var busy = false
        /// A timed flush or a full batch came while a pass was busy: another pass follows.
        var again = false
        /// An encoded batch whose delivery failed for a temporary reason, retried first.
        var retry: (body: ByteBuffer, count: Int)?
        /// After a failed delivery: how long the next wait is, and no pass but a draining one
        /// before `resumeAt`.
        var backoff: TimeAmount?
        var resumeAt: NIODeadline?
        /// The batch being POSTed, and the last one delivered (until ``keepSpare()``).
        var inFlight: (body: ByteBuffer, count: Int)?
        var delivered: ByteBuffer?
        /// The last delivered batch's buffer, cleared, for the next batch (at most `maxSpareBytes`).
        var spare: ByteBuffer?
        /// `flush()`es waiting for a draining pass.
        var drains: [EventLoopPromise<Bool>] = []
    }

    public convenience init(
        settings: Settings, client: WebhookClient, logger: Logger, hooks: Hooks = Hooks(), filter: Filter? = nil,
        encode: @escaping Encode
    ) {
        self.init(settings: settings, client: client, logger: logger, hooks: hooks, filter: filter, encodeInto: { entries, out in out = encode(entries) })
    }

    /// - Parameter events: how many events an entry holds (one each unless said).
    public init(
        settings: Settings, client: WebhookClient, logger: Logger, hooks: Hooks = Hooks(), filter: Filter? = nil,
        events: @escaping @Sendable (Entry) -> Int = { _ in 1 }, encodeInto encode: @escaping EncodeInto
    ) {
        self.settings = settings
        entryEvents = events
        self.client = client
        self.logger = logger
        self.encode = encode
        self.filter = filter
        self.hooks = hooks
        loop = client.client.group.next()
        delivery = .makeBoxSendingValue(Delivery(), eventLoop: loop)
    }

    /// Entries dropped because the queue was full.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Entries delivered (a 2xx answer).
    public var sent: Int { sentCount.load(ordering: .relaxed) }
    /// Entries the endpoint refused (a 4xx other than 429).
    public var rejected: Int { rejectedCount.load(ordering: .relaxed) }
    /// Failed POSTs (each retry counts).
    public var failures: Int { failureCount.load(ordering: .relaxed) }
    /// Entries waiting (queued, or in a batch being retried).
    public var waiting: Int { queue.withLock { $0.events } + retryingCount.load(ordering: .relaxed) }

    /// Queues one entry of `events` events; never blocks.
    public func add(_ entry: Entry, events: Int = 1) {
        let before = queue.withLock { q -> Int in
            guard q.events + events <= settings.capacity else { return -1 }
            q.entries.append(entry)
            defer { q.events += events }
            return q.events
        }
        if before >= 0, before < settings.batchSize, before + events >= settings.batchSize { kick() }
        guard before < 0 else { return }
        droppedCount.add(events, ordering: .relaxed)
        hooks.dropped(events)
        if Self.due(lastDropLog) {
            logger.warning("callback '\(settings.name)': queue full (\(settings.capacity) events); dropping events (\(dropped) so far)")
        }
    }

    /// Starts the timed flushes (and delivers what already waits).
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let interval = TimeAmount(settings.interval)
        let task = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            collect()
            pump()
        }
        ticker.withLock { $0 = task }
        kick()
    }

    /// Stops the timed flushes after one last flush.
    public func stop() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        ticker.withLock { t in
            t?.cancel()
            t = nil
        }
        _ = await flush()
    }

    /// Sends everything that waits, about `batchSize` events a request. `false` when a delivery
    /// failed for a temporary reason (the batch is kept for the next try).
    @discardableResult
    public func flush() async -> Bool {
        let sender = self
        return (try? await loop.flatSubmit {
            sender.collect()
            let done = sender.loop.makePromise(of: Bool.self)
            sender.delivery.value.drains.append(done)
            if !sender.delivery.value.busy { sender.pass(draining: true) }
            return done.futureResult
        }.get()) ?? false
    }

    /// Queues what ``Hooks/collect`` hands over.
    private func collect() {
        for (entry, events) in hooks.collect() { add(entry, events: events) }
    }

    /// Asks `loop` for a pass.
    private func kick() {
        guard started.load(ordering: .relaxed), !stopped.load(ordering: .relaxed),
            kicked.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        loop.execute { [self] in
            kicked.store(false, ordering: .releasing)
            pump()
        }
    }

    /// A pass unless one is busy (it is then followed by another) or a failed delivery's
    /// backoff runs. On `loop`.
    private func pump() {
        guard !stopped.load(ordering: .relaxed) else { return }
        if delivery.value.busy {
            delivery.value.again = true
            return
        }
        if let at = delivery.value.resumeAt, NIODeadline.now() < at { return }
        pass(draining: false)
    }

    /// One pass: the batch kept for a retry, then what waits. `draining` (flush and stop): all
    /// of it, whatever the backoff. Otherwise one batch of what waits, then more only while a
    /// whole batch waits: what trickles in during a POST waits for the next interval or a full
    /// batch, instead of going out in a POST of its own every round trip. On `loop`.
    private func pass(draining: Bool) {
        delivery.value.busy = true
        delivery.value.again = false
        let served = draining ? delivery.value.drains : []
        if draining { delivery.value.drains = [] }
        deliverWaiting(draining: draining, first: true).whenSuccess { [self] delivered in
            delivery.value.busy = false
            if delivered {
                delivery.value.backoff = nil
                delivery.value.resumeAt = nil
            } else {
                let max = TimeAmount(settings.maxBackoff)
                let backoff = min((delivery.value.backoff ?? .milliseconds(100)) * 2, max)
                delivery.value.backoff = backoff
                delivery.value.resumeAt = .now() + backoff
                loop.scheduleTask(in: backoff) { [self] in pump() }
            }
            for p in served { p.succeed(delivered) }
            if !delivery.value.drains.isEmpty {
                pass(draining: true)
            } else if delivery.value.again {
                pump()
            }
        }
    }

    /// Delivers batches one after another; `false` at a temporary failure. Never fails.
    private func deliverWaiting(draining: Bool, first: Bool) -> EventLoopFuture<Bool> {
        if let retry = delivery.value.retry.take() {
            retryingCount.store(0, ordering: .relaxed)
            return deliver(retry.body, count: retry.count).flatMap { [self] delivered in
                delivered ? deliverWaiting(draining: draining, first: first) : loop.makeSucceededFuture(false)
            }
        }
        let (taken, events) = take(draining: draining, first: first)
        guard !taken.isEmpty else { return loop.makeSucceededFuture(true) }
        let admitted: EventLoopFuture<[Entry]>
        if let filter {
            admitted = loop.makeFutureWithTask { await filter(taken) }.recover { _ in taken }
        } else {
            admitted = loop.makeSucceededFuture(taken)
        }
        return admitted.flatMap { [self] batch in
            guard !batch.isEmpty else { return deliverWaiting(draining: draining, first: false) }
            var body = delivery.value.spare.take() ?? ByteBuffer()
            encode(batch, &body)
            // A filter drops single events (alerts), so the batch's own count is its events then.
            return deliver(body, count: filter == nil ? events : batch.count).flatMap { [self] delivered in
                delivered ? deliverWaiting(draining: draining, first: false) : loop.makeSucceededFuture(false)
            }
        }
    }

    /// Takes one batch of the queue: whole entries up to `batchSize` events (at least one);
    /// nothing when `!draining`, not the pass's first batch, and less than a batch waits.
    private func take(draining: Bool, first: Bool) -> ([Entry], Int) {
        queue.withLock { q -> ([Entry], Int) in
            if !draining, !first, q.events < settings.batchSize { return ([], 0) }
            if q.events <= settings.batchSize {
                // All of it: the array itself, not a copy of its entries.
                var all: ([Entry], Int) = ([], 0)
                swap(&q.entries, &all.0)
                swap(&q.events, &all.1)
                return all
            }
            let weigh = entryEvents
            var n = 0
            var events = 0
            while n < q.entries.count {
                let e = weigh(q.entries[n])
                if n > 0, events + e > settings.batchSize { break }
                events += e
                n += 1
            }
            q.events -= events
            defer { q.entries.removeFirst(n) }
            return (Array(q.entries.prefix(n)), events)
        }
    }

    /// One POST; a temporary failure keeps the batch for a retry. On `loop`; never fails.
    private func deliver(_ body: ByteBuffer, count: Int) -> EventLoopFuture<Bool> {
        // The buffer waits in `delivery`, not in the closures: one the futures still held
        // could not be reused (clearing a shared buffer copies it).
        delivery.value.inFlight = (body, count)
        return client.post(settings.url, contentType: settings.contentType, headers: settings.headers, body: body, on: loop)
            .map { [self] status -> String? in
                if (200..<300).contains(status) {
                    sentCount.add(count, ordering: .relaxed)
                    return nil
                }
                guard status >= 500 || status == 429 else {
                    rejectedCount.add(count, ordering: .relaxed)
                    failureCount.add(1, ordering: .relaxed)
                    let reason = "the endpoint answered \(status); \(count) events dropped"
                    logger.warning("callback '\(settings.name)': \(reason)")
                    hooks.deliveryFailed(reason)
                    return nil
                }
                return "the endpoint answered \(status)"
            }
            .recover { error in "\(error)" }
            .map { [self] reason -> Bool in
                let posted = delivery.value.inFlight.take()
                guard let reason else {
                    // Answered: the connection is done with the buffer. It is kept once the
                    // futures of this POST have let go of it, at the end of the tick.
                    delivery.value.delivered = posted?.body
                    loop.execute { [self] in keepSpare() }
                    return true
                }
                failureCount.add(1, ordering: .relaxed)
                delivery.value.retry = posted
                retryingCount.store(count, ordering: .relaxed)
                if Self.due(lastFailureLog) {
                    logger.warning("callback '\(settings.name)': delivery failed (\(reason)); retrying with backoff, \(waiting) events waiting")
                }
                hooks.deliveryFailed(reason)
                return false
            }
    }

    /// The delivered batch's buffer, for the next batch (a fresh megabyte costs page faults as
    /// it is filled): given to ``Hooks/recycle``, else kept, cleared.
    private func keepSpare() {
        guard var body = delivery.value.delivered.take() else { return }
        if let recycle = hooks.recycle { return recycle(body) }
        guard body.capacity <= Self.maxSpareBytes else { return }
        body.clear()
        delivery.value.spare = body
    }

    /// True at most once a minute per `last`.
    private static func due(_ last: borrowing Mutex<ContinuousClock.Instant?>) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last -> Bool in
            if let l = last, now - l < .seconds(60) { return false }
            last = now
            return true
        }
    }
}

extension BatchingSender where Entry == ByteBuffer {
    /// `[e1,e2,...]`
    public static var jsonArray: Encode {
        { entries in
            var out = ByteBuffer()
            out.reserveCapacity(entries.reduce(2) { $0 + $1.readableBytes + 1 })
            out.writeInteger(UInt8(ascii: "["))
            for (i, var e) in entries.enumerated() {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                out.writeBuffer(&e)
            }
            out.writeInteger(UInt8(ascii: "]"))
            return out
        }
    }
}
