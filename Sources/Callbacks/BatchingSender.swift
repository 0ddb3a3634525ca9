import Logging
import NIOCore
import Synchronization

/// A bounded queue of JSON entries for one endpoint, flushed off the request path: every
/// `interval`, or sooner when `batchSize` entries wait. Adding is O(1) under a short lock and
/// never waits; when the queue is full the entry is dropped and counted (and logged, at most
/// once a minute). A failed POST (transport error or 5xx/429) is retried with backoff.
public final class BatchingSender: Sendable {
    public struct Settings: Sendable {
        public var url: String
        public var headers: [(String, String)]
        public var interval: Duration = .seconds(5)
        public var batchSize = 512
        public var capacity = 10_000
        public var retries = 2
        public init(url: String, headers: [(String, String)]) {
            self.url = url
            self.headers = headers
        }
    }

    /// How one batch becomes a request body (a JSON array by default).
    public typealias Encode = @Sendable ([ByteBuffer]) -> ByteBuffer

    let settings: Settings
    let client: WebhookClient
    let logger: Logger
    let encode: Encode
    private let queue = Mutex<[ByteBuffer]>([])
    private let droppedCount = Atomic<Int>(0)
    private let sentCount = Atomic<Int>(0)
    private let lastDropLog = Mutex<ContinuousClock.Instant?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(settings: Settings, client: WebhookClient, logger: Logger, encode: @escaping Encode = BatchingSender.jsonArray) {
        self.settings = settings
        self.client = client
        self.logger = logger
        self.encode = encode
    }

    /// Entries dropped because the queue was full.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Entries delivered (a 2xx answer).
    public var sent: Int { sentCount.load(ordering: .relaxed) }

    /// Queues one entry; never blocks.
    public func add(_ entry: ByteBuffer) {
        let accepted = queue.withLock { q -> Bool in
            guard q.count < settings.capacity else { return false }
            q.append(entry)
            return true
        }
        if !accepted {
            droppedCount.add(1, ordering: .relaxed)
            let now = ContinuousClock.now
            let log = lastDropLog.withLock { last -> Bool in
                if let l = last, now - l < .seconds(60) { return false }
                last = now
                return true
            }
            if log { logger.warning("callback queue for \(settings.url) is full (\(settings.capacity)); dropping events (\(dropped) so far)") }
        }
    }

    /// Starts the flush loop.
    public func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task.detached { [self] in await run() }
        }
    }

    /// Stops the loop after one last flush.
    public func stop() async {
        let t = task.withLock { t -> Task<Void, Never>? in defer { t = nil }; return t }
        t?.cancel()
        await t?.value
        await flush()
    }

    private func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.interval)
            await flush()
        }
    }

    /// Sends everything queued, `batchSize` entries a request.
    public func flush() async {
        while true {
            let batch = queue.withLock { q -> [ByteBuffer] in
                let n = min(q.count, settings.batchSize)
                defer { q.removeFirst(n) }
                return Array(q.prefix(n))
            }
            guard !batch.isEmpty else { return }
            await send(batch)
        }
    }

    private func send(_ batch: [ByteBuffer]) async {
        let body = encode(batch)
        var attempt = 0
        while true {
            do {
                let status = try await client.post(settings.url, headers: settings.headers, body: body)
                if (200..<300).contains(status) {
                    sentCount.add(batch.count, ordering: .relaxed)
                    return
                }
                guard status >= 500 || status == 429, attempt < settings.retries else {
                    logger.warning("callback \(settings.url) answered \(status); \(batch.count) events not delivered")
                    return
                }
            } catch {
                guard attempt < settings.retries else {
                    logger.warning("callback \(settings.url) failed: \(error); \(batch.count) events not delivered")
                    return
                }
            }
            attempt += 1
            try? await Task.sleep(for: .milliseconds(200 << attempt))
        }
    }

    /// `[e1,e2,...]`
    public static let jsonArray: Encode = { entries in
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
