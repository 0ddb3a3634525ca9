import CallModel
import Logging

/// With JSON logs on: one info line per finished call, with its id, model group, deployment,
/// status, latency and tokens. Never the key, the request or the answer.
///
/// ```json
/// {"call_id":"…","deployment_id":"…","latency_ms":12.3,"level":"info","message":"request",
///  "model_group":"gpt-4o","route":"/v1/chat/completions","status":200,"total_tokens":25,…}
/// ```
final class JSONCallLog: CallRecordSink {
    private let logger: Logger

    init(label: String = "switchboard.request") {
        var logger = Logger(label: label)
        logger.logLevel = .info
        self.logger = logger
    }

    func record(_ r: CallRecord) {
        var metadata: Logger.Metadata = [
            "call_id": .string(r.callID),
            "route": .string("/v1" + r.route.rawValue),
            "model_group": r.modelGroup.map { .string($0) } ?? .string("None"),
            "deployment_id": r.deploymentID.map { .string($0) } ?? .string("None"),
            "status": .stringConvertible(r.status),
            "latency_ms": .stringConvertible(Double(r.totalNanoseconds / 1000) / 1000),
            "overhead_ms": .stringConvertible(Double(r.overheadNanoseconds / 1000) / 1000),
            "stream": .stringConvertible(r.stream),
            "attempts": .stringConvertible(r.attemptCount),
        ]
        if r.stream && r.timeToFirstByteNanoseconds > 0 {
            metadata["ttft_ms"] = .stringConvertible(Double(r.timeToFirstByteNanoseconds / 1000) / 1000)
        }
        if let usage = r.usage {
            metadata["prompt_tokens"] = .stringConvertible(usage.promptTokens)
            metadata["completion_tokens"] = .stringConvertible(usage.completionTokens)
            metadata["total_tokens"] = .stringConvertible(usage.promptTokens + usage.completionTokens)
            if usage.estimated { metadata["tokens_estimated"] = .stringConvertible(true) }
        }
        if let failure = r.failure { metadata["error"] = .string(failure.name) }
        logger.info("request", metadata: metadata)
    }
}
