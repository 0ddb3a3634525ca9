import CallModel
import Logging

/// With `--detailed_debug`: one log line per finished call, from its record.
final class DebugRecordLog: CallRecordSink {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func record(_ r: CallRecord) {
        let attempts = r.attempts.map { a in
            "\(a.deploymentID)/\(a.reason.rawValue)=\(a.failure?.name ?? "ok")(\(a.upstreamStatus))"
        }.joined(separator: ",")
        let usage = r.usage.map { "\($0.promptTokens)+\($0.completionTokens)\($0.estimated ? " (estimated)" : "")" } ?? "-"
        logger.debug("""
            call \(r.callID) \(r.route.rawValue) group=\(r.modelGroup ?? "-") deployment=\(r.deploymentID ?? "-") \
            status=\(r.status) stream=\(r.stream) mocked=\(r.mocked) attempts=[\(attempts)] \
            failure=\(r.failure?.name ?? "-") tokens=\(usage) ttfb_ms=\(Double(r.timeToFirstByteNanoseconds) / 1e6) \
            total_ms=\(Double(r.totalNanoseconds) / 1e6) overhead_ms=\(Double(r.overheadNanoseconds) / 1e6)
            """)
    }
}
