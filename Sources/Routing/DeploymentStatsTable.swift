import CallModel

/// What one event loop has seen of one deployment: counts, tokens, in-flight attempts and
/// moving averages of latency. Read by the router; fed by ``DeploymentStatsTable``.
public struct DeploymentStats: Sendable, Equatable {
    public var attempts = 0
    public var successes = 0
    public var rateLimited = 0
    public var timeouts = 0
    public var connectionErrors = 0
    public var serverErrors = 0
    /// Errors the request caused (400, 404, context window, content policy, auth).
    public var requestErrors = 0
    public var otherFailures = 0
    public var promptTokens = 0
    public var completionTokens = 0
    /// Attempts running now.
    public var inFlight = 0
    /// Moving average of a successful plain answer's duration, in milliseconds (0: none yet).
    public var latencyMilliseconds = 0.0
    /// Moving average of a stream's time to its first event, in milliseconds (0: none yet).
    public var timeToFirstTokenMilliseconds = 0.0

    public var failures: Int { rateLimited + timeouts + connectionErrors + serverErrors + requestErrors + otherFailures }

    /// Weight of the newest sample in the moving averages.
    static let smoothing = 0.1

    static func average(_ old: Double, _ sample: Double) -> Double {
        old == 0 ? sample : old + smoothing * (sample - old)
    }

    mutating func count(_ failure: UpstreamFailure) {
        switch failure {
        case .timeout, .streamSilence: timeouts += 1
        case .connection, .interrupted: connectionErrors += 1
        case .status(let s):
            switch s.kind {
            case .rateLimit: rateLimited += 1
            case .serverError: serverErrors += 1
            case .badRequest, .notFound, .contextWindowExceeded, .contentPolicy, .authentication: requestErrors += 1
            case .other: otherFailures += 1
            }
        case .malformed, .bodyTooLarge, .notCallable, .noDeploymentAvailable: otherFailures += 1
        case .clientGone: break  // not the deployment's doing
        }
    }
}

/// Per-deployment stats for one event loop, indexed by deployment position: O(1) per call,
/// no locks (only its loop touches it). The first ``CallRecordSink``.
///
/// ```swift
/// table.attemptStarted(3)
/// table.attemptEnded(3)
/// table.record(record)          // counts, tokens, averages
/// let busy = table[3].inFlight
/// ```
public final class DeploymentStatsTable: CallRecordSink {
    private var rows: [DeploymentStats]

    public init(deployments: Int) {
        rows = Array(repeating: DeploymentStats(), count: deployments)
    }

    public subscript(index: Int) -> DeploymentStats {
        rows.indices.contains(index) ? rows[index] : DeploymentStats()
    }

    public func attemptStarted(_ index: Int) {
        guard rows.indices.contains(index) else { return }
        rows[index].inFlight += 1
    }

    public func attemptEnded(_ index: Int) {
        guard rows.indices.contains(index) else { return }
        rows[index].inFlight -= 1
    }

    public func record(_ record: CallRecord) {
        guard let first = record.firstAttempt else { return }
        count(first, record)
        for later in record.laterAttempts { count(later, record) }
    }

    private func count(_ attempt: AttemptRecord, _ record: CallRecord) {
        let i = attempt.deploymentIndex
        guard rows.indices.contains(i) else { return }
        rows[i].attempts += 1
        guard let failure = attempt.failure else {
            rows[i].successes += 1
            if let usage = record.usage {
                rows[i].promptTokens += usage.promptTokens
                rows[i].completionTokens += usage.completionTokens
            }
            if record.stream {
                if attempt.firstByteNanoseconds > 0 {
                    rows[i].timeToFirstTokenMilliseconds = DeploymentStats.average(rows[i].timeToFirstTokenMilliseconds, Double(attempt.firstByteNanoseconds) / 1e6)
                }
            } else {
                rows[i].latencyMilliseconds = DeploymentStats.average(rows[i].latencyMilliseconds, Double(attempt.durationNanoseconds) / 1e6)
            }
            return
        }
        rows[i].count(failure)
    }
}
