import Logging
import Synchronization

/// Keeps every log line written through `logger` (`"<level> <message>"`), for tests that expect
/// a warning or count how often one is written.
///
/// ```swift
/// let log = CapturedLog()
/// let client = try RedisClient(configuration: c, logger: log.logger)
/// XCTAssertTrue(log.lines.contains { $0.contains("TLS handshake failed") })
/// ```
public final class CapturedLog: Sendable {
    private let stored = Mutex<[String]>([])

    public init() {}

    /// The lines so far, oldest first.
    public var lines: [String] { stored.withLock { $0 } }

    /// A logger (every level, trace up) whose lines this log keeps.
    public var logger: Logger {
        Logger(label: "captured") { _ in Handler(log: self) }
    }

    private func append(_ line: String) { stored.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append("\(event.level) \(event.message)")
        }
    }
}
