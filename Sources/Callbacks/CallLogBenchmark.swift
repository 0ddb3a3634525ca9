import CallModel
import NIOCore
import OpenAIWire
import SwitchboardConfig

/// What encoding one call costs each call-logging format, with no network: the bench's
/// request and answer (`bench/run`'s), written into a batch buffer reused as a sender reuses
/// it. Run by `switchboard bench-callbacks` (build with `-c release`).
public enum CallLogBenchmark {
    /// One line per format: nanoseconds and bytes per call.
    /// - Parameter only: the formats whose name contains it (all when empty).
    public static func run(config: GatewayConfig, calls: Int, only: String = "") -> [String] {
        let directory = DeploymentDirectory(config: config)
        let resource = OTLPExporterSettings.otel(environment: [:]).resource
        let formats: [(String, any CallBatchFormat)] = [
            ("otel (protobuf)", TraceCallback.format(protocol: .protobuf, directory: directory, flavor: .otel, resource: resource)),
            ("langfuse (protobuf)", TraceCallback.format(protocol: .protobuf, directory: directory, flavor: .langfuse, resource: resource)),
            ("generic_api", GenericAPICallback.format(directory: directory)),
            ("otel (json)", TraceCallback.format(protocol: .json, directory: directory, flavor: .otel, resource: resource)),
        ]
        let deployment = config.deployments.first
        let batch = (0..<512).map { i in LoggedCall(benchRecord(i, deployment: deployment?.id ?? "d")) }
        var lines: [String] = []
        for (name, format) in formats where only.isEmpty || name.contains(only) {
            var body = ByteBuffer()
            var bytes = 0
            var written = 0
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                while written < calls {
                    format.open(&body, calls: batch.count)
                    for (i, call) in batch.enumerated() { format.write(call, first: i == 0, to: &body) }
                    format.close(&body)
                    bytes = body.readableBytes
                    written += batch.count
                }
            }
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            lines.append("\(name): \(Int(ns / Double(written))) ns a call, \(bytes / batch.count) bytes a call")
        }
        // As a worker runs them: otel, langfuse and generic_api together, call by call, each
        // batch in one of `rotation` buffers in turn (a sent batch's buffer is reused later).
        for rotation in [1, 3] where only.isEmpty {
            let lanes = formats.prefix(3).map(\.1)
            var buffers = lanes.map { _ in (0..<rotation).map { _ in ByteBuffer() } }
            var written = 0
            var round = 0
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                while written < calls {
                    for l in lanes.indices { lanes[l].open(&buffers[l][round % rotation], calls: batch.count) }
                    for (i, call) in batch.enumerated() {
                        for l in lanes.indices { lanes[l].write(call, first: i == 0, to: &buffers[l][round % rotation]) }
                    }
                    for l in lanes.indices { lanes[l].close(&buffers[l][round % rotation]) }
                    written += batch.count
                    round += 1
                }
            }
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            lines.append("otel + langfuse + generic_api, \(rotation) buffer(s) each: \(Int(ns / Double(written))) ns a call")
        }
        return lines
    }

    /// A call like the bench's: one attempt, 9 + 9 tokens, the bench upstream's answer.
    static func benchRecord(_ i: Int, deployment: String) -> CallRecord {
        let id = "0f8fad5b-d9cb-469f-a165-\(String(100_000_000_000 + i))"
        var first = AttemptRecord(deploymentID: deployment, deploymentIndex: 0, reason: .first)
        first.upstreamStatus = 200
        first.startNanoseconds = 40_000
        first.firstByteNanoseconds = 150_000
        first.durationNanoseconds = 160_000
        var r = CallRecord(
            callID: id, route: .chatCompletions, modelGroup: "bench-model", deploymentID: deployment, firstAttempt: first,
            laterAttempts: [], status: 200, failure: nil, stream: false, mocked: false, caller: .masterKey,
            timeToFirstByteNanoseconds: 190_000, totalNanoseconds: 210_000, overheadNanoseconds: 50_000,
            usage: TokenUsage(promptTokens: 9, completionTokens: 9))
        let request = ByteBuffer(string: #"{"model":"bench-model","messages":[{"role":"user","content":"Say hello"}]}"#)
        r.requestBody = request
        r.requestMembers = try? JSONScanner.scanObject(request)
        r.responseBody = ByteBuffer(string: #"{"id":"chatcmpl-bench0000000000000000000001","object":"chat.completion","created":1700000000,"model":"bench-model","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}"#)
        return r
    }
}
