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
    /// The entries waiting, and the events they hold.
    private let queue = Mutex<(entries: [Entry], events: Int)>(([], 0))
    private let droppedCount = Atomic<Int>(0)
    private let sentCount = Atomic<Int>(0)
    private let rejectedCount = Atomic<Int>(0)
    private let failureCount = Atomic<Int>(0)
    private let lastDropLog = Mutex<ContinuousClock.Instant?>(nil)
    private let lastFailureLog = Mutex<ContinuousClock.Instant?>(nil)
    /// An encoded batch whose delivery failed for a temporary reason, retried first.
    private let pending = Mutex<(body: ByteBuffer, count: Int)?>(nil)
    /// The last delivered batch's buffer, cleared, for the next batch (at most `maxSpareBytes`).
    private let spare = Mutex<ByteBuffer?>(nil)
    private static var maxSpareBytes: Int { 4 << 20 }
    /// One flush at a time (the loop and `stop`).
    private let flushing = Mutex<Bool>(false)
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: Mutex<AsyncStream<Void>?>
    private let tasks = Mutex<[Task<Void, Never>]>([])

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
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wake = continuation
        wakes = Mutex(stream)
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
    public var waiting: Int { queue.withLock { $0.events } + (pending.withLock { $0?.count } ?? 0) }

    /// Queues one entry of `events` events; never blocks.
    public func add(_ entry: Entry, events: Int = 1) {
        let before = queue.withLock { q -> Int in
            guard q.events + events <= settings.capacity else { return -1 }
            q.entries.append(entry)
            defer { q.events += events }
            return q.events
        }
        if before >= 0, before < settings.batchSize, before + events >= settings.batchSize { wake.yield() }
        guard before < 0 else { return }
        droppedCount.add(events, ordering: .relaxed)
        hooks.dropped(events)
        if Self.due(lastDropLog) {
            logger.warning("callback '\(settings.name)': queue full (\(settings.capacity) events); dropping events (\(dropped) so far)")
        }
    }

    /// Starts the flush loop.
    public func start() {
        guard let stream = wakes.withLock({ s -> AsyncStream<Void>? in defer { s = nil }; return s }) else { return }
        let interval = settings.interval
        let wake = self.wake
        let ticker = Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                collect()
                wake.yield()
            }
        }
        let loop = Task.detached { [self] in
            var backoff: Duration?
            for await _ in stream {
                if Task.isCancelled { return }
                if let b = backoff { try? await Task.sleep(for: b) }
                if await flush(draining: false) {
                    backoff = nil
                } else {
                    backoff = min((backoff ?? .milliseconds(100)) * 2, settings.maxBackoff)
                    wake.yield()
                }
            }
        }
        tasks.withLock { $0 = [ticker, loop] }
    }

    /// Stops the loop after one last flush.
    public func stop() async {
        let running = tasks.withLock { t -> [Task<Void, Never>] in defer { t = [] }; return t }
        for t in running { t.cancel() }
        wake.finish()
        for t in running { await t.value }
        _ = await flush()
    }

    /// Sends what waits, about `batchSize` events a request. `false` when a delivery failed
    /// for a temporary reason (the batch is kept for the next try).
    @discardableResult
    public func flush() async -> Bool {
        collect()
        return await flush(draining: true)
    }

    /// Queues what ``Hooks/collect`` hands over.
    private func collect() {
        for (entry, events) in hooks.collect() { add(entry, events: events) }
    }

    /// `draining: false` (the loop's): one batch of what waits, then more only while a whole
    /// batch waits — what trickles in during a POST waits for the next interval or a full
    /// batch, instead of going out in a POST (and a connection) of its own every round trip.
    private func flush(draining: Bool) async -> Bool {
        guard flushing.withLock({ busy -> Bool in defer { busy = true }; return !busy }) else { return true }
        defer { flushing.withLock { $0 = false } }
        if let retry = pending.withLock({ p -> (body: ByteBuffer, count: Int)? in defer { p = nil }; return p }) {
            guard await deliver(retry.body, count: retry.count) else { return false }
        }
        var first = true
        while true {
            let (taken, events) = queue.withLock { q -> ([Entry], Int) in
                if !draining, !first, q.events < settings.batchSize { return ([], 0) }
                if q.events <= settings.batchSize {
                    // All of it: the array itself, not a copy of its entries.
                    var all: ([Entry], Int) = ([], 0)
                    swap(&q.entries, &all.0)
                    swap(&q.events, &all.1)
                    return all
                }
                // Whole entries up to `batchSize` events (at least one).
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
            first = false
            guard !taken.isEmpty else { return true }
            let batch = await filter?(taken) ?? taken
            guard !batch.isEmpty else { continue }
            var body = spare.withLock { s -> ByteBuffer in defer { s = nil }; return s ?? ByteBuffer() }
            body.clear()
            encode(batch, &body)
            // A filter drops single events (alerts), so the batch's own count is its events then.
            guard await deliver(body, count: filter == nil ? events : batch.count) else { return false }
            // Delivered: the connection is done with it (an answer came after the request).
            body.clear()
            if body.capacity <= Self.maxSpareBytes { spare.withLock { $0 = body } }
        }
    }

    /// One POST; a temporary failure keeps the batch in `pending`.
    private func deliver(_ body: ByteBuffer, count: Int) async -> Bool {
        let reason: String
        do {
            let status = try await client.post(settings.url, contentType: settings.contentType, headers: settings.headers, body: body)
            if (200..<300).contains(status) {
                sentCount.add(count, ordering: .relaxed)
                return true
            }
            guard status >= 500 || status == 429 else {
                rejectedCount.add(count, ordering: .relaxed)
                failureCount.add(1, ordering: .relaxed)
                let reason = "the endpoint answered \(status); \(count) events dropped"
                logger.warning("callback '\(settings.name)': \(reason)")
                hooks.deliveryFailed(reason)
                return true
            }
            reason = "the endpoint answered \(status)"
        } catch {
            reason = "\(error)"
        }
        failureCount.add(1, ordering: .relaxed)
        pending.withLock { $0 = (body, count) }
        if Self.due(lastFailureLog) {
            logger.warning("callback '\(settings.name)': delivery failed (\(reason)); retrying with backoff, \(waiting) events waiting")
        }
        hooks.deliveryFailed(reason)
        return false
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
