import CallModel
import Foundation
import NIOCore
import OpenAIWire


/// Turns call records into OTLP spans: one span per call (kind server, named
/// `{operation} {model group}`) and one child span per attempt (kind client, named
/// `{operation} {deployment model}`), with the OpenTelemetry GenAI semantic-convention
/// attribute names. The Langfuse flavour adds the `langfuse.*` attributes Langfuse's OTLP
/// ingestion maps (type generation, input, output, usage and cost details, metadata, level).
struct CallSpans: Sendable {
    enum Flavor: Sendable {
        case otel
        case langfuse
    }

    let directory: DeploymentDirectory
    let flavor: Flavor

    func spans(_ entry: QueuedCall) -> [OTLPSpan] {
        let r = entry.record
        let end = entry.endUnixNanos
        let start = end &- min(end, r.totalNanoseconds)
        let traceID = Self.traceID(callID: r.callID)
        let spanSeed = Self.seed(traceID: traceID)
        let rootID = Self.spanID(spanSeed, 0)
        let d = directory[r.deploymentID]
        let operation = Self.operation(r.route)
        let prompt = r.usage?.promptTokens ?? 0
        let completion = r.usage?.completionTokens ?? 0
        let inputCost = Double(prompt) * (d?.inputCostPerToken ?? 0)
        let outputCost = Double(completion) * (d?.outputCostPerToken ?? 0)
        let priced = d?.inputCostPerToken != nil || d?.outputCostPerToken != nil

        var root = OTLPSpan(
            traceID: traceID, spanID: rootID, parentSpanID: nil, name: "\(operation) \(r.modelGroup ?? "unknown")",
            kind: .server, startUnixNanos: start, endUnixNanos: end)
        var a = OTLPAttributes()
        a.string("gen_ai.operation.name", operation)
        a.optionalString("gen_ai.system", d?.provider)
        a.optionalString("gen_ai.provider.name", d?.provider)
        a.optionalString("gen_ai.request.model", r.modelGroup)
        a.optionalString("gen_ai.response.model", d.map { Self.bareModel($0.model) })
        if let usage = r.usage {
            a.int("gen_ai.usage.input_tokens", usage.promptTokens)
            a.int("gen_ai.usage.output_tokens", usage.completionTokens)
            a.int("gen_ai.usage.total_tokens", usage.totalTokens)
            if usage.estimated { a.bool("switchboard.usage.estimated", true) }
        }
        if priced { a.double("gen_ai.usage.cost", inputCost + outputCost) }
        a.int("http.response.status_code", r.status)
        a.string("http.route", r.route.rawValue)
        a.string("switchboard.call_id", r.callID)
        a.optionalString("switchboard.model_group", r.modelGroup)
        a.optionalString("switchboard.deployment_id", r.deploymentID)
        a.optionalString("switchboard.api_base", d?.apiBase)
        a.bool("switchboard.stream", r.stream)
        a.int("switchboard.attempts", r.attemptCount)
        a.double("switchboard.overhead_ms", Double(r.overheadNanoseconds) / 1e6)
        if r.timeToFirstByteNanoseconds > 0 { a.double("switchboard.time_to_first_byte_ms", Double(r.timeToFirstByteNanoseconds) / 1e6) }
        if r.mocked { a.bool("switchboard.mocked", true) }
        if let failure = r.failure {
            a.string("error.type", failure.name)
            root.error = failure.description
        } else if r.status >= 400 {
            a.string("error.type", String(r.status))
            root.error = "answered \(r.status)"
        }
        if flavor == .langfuse {
            langfuse(&a, r, d: d, start: start, inputCost: inputCost, outputCost: outputCost, priced: priced)
        }
        root.attributes = a

        var spans = [root]
        for (n, attempt) in r.attempts.enumerated() {
            let ad = directory[attempt.deploymentID]
            let attemptStart = start &+ attempt.startNanoseconds
            var span = OTLPSpan(
                traceID: traceID, spanID: Self.spanID(spanSeed, UInt64(n) + 1), parentSpanID: rootID,
                name: "\(operation) \(ad.map { Self.bareModel($0.model) } ?? attempt.deploymentID)", kind: .client,
                startUnixNanos: attemptStart, endUnixNanos: min(end, attemptStart &+ attempt.durationNanoseconds))
            var c = OTLPAttributes()
            c.string("gen_ai.operation.name", operation)
            c.optionalString("gen_ai.system", ad?.provider)
            c.optionalString("gen_ai.provider.name", ad?.provider)
            // Langfuse makes every span naming a model a generation: its attempts name the model
            // under our own key, so the call stays the one generation (with the usage and cost).
            c.optionalString(flavor == .langfuse ? "switchboard.model" : "gen_ai.request.model", ad.map { Self.bareModel($0.model) })
            c.string("switchboard.deployment_id", attempt.deploymentID)
            c.optionalString("switchboard.api_base", ad?.apiBase)
            c.string("switchboard.attempt.reason", attempt.reason.rawValue)
            if attempt.upstreamStatus > 0 { c.int("http.response.status_code", attempt.upstreamStatus) }
            if attempt.firstByteNanoseconds > 0 { c.double("switchboard.time_to_first_byte_ms", Double(attempt.firstByteNanoseconds) / 1e6) }
            if let failure = attempt.failure {
                c.string("error.type", failure.name)
                span.error = failure.description
            }
            if flavor == .langfuse { c.string("langfuse.observation.type", "span") }
            span.attributes = c
            spans.append(span)
        }
        return spans
    }

    /// What Langfuse shows: a generation with its model, input, output, usage, cost, latency
    /// (the span's own times, and the completion start), metadata, and errors as level ERROR.
    private func langfuse(
        _ a: inout OTLPAttributes, _ r: CallRecord, d: DeploymentDirectory.Entry?, start: UInt64,
        inputCost: Double, outputCost: Double, priced: Bool
    ) {
        a.string("langfuse.observation.type", "generation")
        a.string("langfuse.trace.name", "litellm-\(GenericAPICallback.callType(r.route))")
        a.optionalString("langfuse.observation.model.name", d.map { Self.bareModel($0.model) } ?? r.modelGroup)
        let inputKey = r.route == .embeddings ? "input" : (r.route == .completions ? "prompt" : "messages")
        if let input = GenericAPICallback.member(r.requestBody, inputKey) {
            a.string("langfuse.observation.input", input)
            a.string("langfuse.trace.input", input)
        }
        if r.route != .embeddings, let output = Self.output(r.responseBody) ?? Self.streamedOutput(r.streamedEvents) {
            a.string("langfuse.observation.output", output)
            a.string("langfuse.trace.output", output)
        }
        if let parameters = Self.modelParameters(r.requestBody) { a.string("langfuse.observation.model.parameters", parameters) }
        if let usage = r.usage {
            a.string("langfuse.observation.usage_details", #"{"input":\#(usage.promptTokens),"output":\#(usage.completionTokens),"total":\#(usage.totalTokens)}"#)
        }
        if priced {
            a.string("langfuse.observation.cost_details", #"{"input":\#(inputCost),"output":\#(outputCost),"total":\#(inputCost + outputCost)}"#)
        }
        if r.timeToFirstByteNanoseconds > 0 {
            // A JSON string (quoted), as Langfuse's SDKs send it and its ingestion parses it.
            a.string("langfuse.observation.completion_start_time", "\"" + Self.iso8601(unixNanos: start &+ r.timeToFirstByteNanoseconds) + "\"")
        }
        if let failure = r.failure {
            a.string("langfuse.observation.level", "ERROR")
            a.string("langfuse.observation.status_message", failure.description)
        } else if r.status >= 400 {
            a.string("langfuse.observation.level", "ERROR")
            a.string("langfuse.observation.status_message", "answered \(r.status)")
        }
        var m = JSONObjectWriter()
        m.string("call_id", r.callID)
        m.optionalString("model_group", r.modelGroup)
        m.optionalString("model_id", r.deploymentID)
        m.optionalString("api_base", d?.apiBase)
        m.int("status_code", r.status)
        m.bool("stream", r.stream)
        m.int("attempts", r.attemptCount)
        m.double("latency_ms", Double(r.totalNanoseconds) / 1e6)
        m.double("overhead_ms", Double(r.overheadNanoseconds) / 1e6)
        if r.caller == .masterKey { m.string("user_api_key_alias", "master_key") }
        let metadata = m.finish()
        a.string("langfuse.observation.metadata", metadata)
        a.string("langfuse.trace.metadata", metadata)
    }

    static func operation(_ route: CallRecord.Route) -> String {
        switch route {
        case .chatCompletions: return "chat"
        case .completions: return "text_completion"
        case .embeddings: return "embeddings"
        }
    }

    /// `openai/gpt-4o` → `gpt-4o`.
    static func bareModel(_ model: String) -> String {
        model.firstIndex(of: "/").map { String(model[model.index(after: $0)...]) } ?? model
    }

    /// The call id (a UUID) without its dashes is the trace id, so `x-litellm-call-id` finds
    /// the trace; anything else gets a random one.
    static func traceID(callID: String) -> String {
        let hex = callID.lowercased().filter { $0 != "-" }
        guard hex.utf8.count == 32, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }),
              hex.contains(where: { $0 != "0" }) else { return randomHex(bytes: 16) }
        return hex
    }

    /// Random lowercase hex (`bytes` of 8 or 16), never all zeros: the trace id of a call whose
    /// id is not a UUID.
    static func randomHex(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        var s = ""
        for _ in 0..<max(1, bytes / 8) { s += hex16(g.next() | 1) }
        return s
    }

    /// The seed of a trace's span ids: its 128 random bits folded to 64.
    static func seed(traceID: String) -> UInt64 {
        let hex = traceID.utf8
        guard hex.count == 32 else { return 0x5EED }
        return (UInt64(traceID.prefix(16), radix: 16) ?? 0) ^ (UInt64(traceID.suffix(16), radix: 16) ?? 0)
    }

    /// Span `n` of a trace (0: the call's span, 1...: its attempts), derived from the trace's
    /// seed with SplitMix64: unique within the trace, the same when a batch is sent again, and
    /// no system randomness (one `getrandom` per span) on the callback's sender.
    static func spanID(_ seed: UInt64, _ n: UInt64) -> String {
        var z = seed &+ (n &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return hex16(z == 0 ? 1 : z)
    }

    /// `v` as 16 lowercase hex digits.
    static func hex16(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            for i in 0..<16 { out[i] = digits[Int((v >> UInt64(60 - 4 * i)) & 0xF)] }
            return 16
        }
    }

    /// The answer's `choices` (chat and text completions), as raw JSON.
    static func output(_ body: ByteBuffer?) -> String? {
        GenericAPICallback.member(body, "choices")
    }

    /// A stream's answer assembled from its events, in the shape of a plain answer's `choices`:
    /// `[{"index":0,"message":{"role":"assistant","content":"..."},"finish_reason":"stop"}]`.
    static func streamedOutput(_ events: ByteBuffer?) -> String? {
        guard let events else { return nil }
        var text = ""
        var finish: String?
        var role = "assistant"
        for line in String(buffer: events).split(separator: "\n") where line.hasPrefix("data:") {
            let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            guard payload != "[DONE]", let chunk = try? JSONValue.parse(payload),
                  let choice = chunk["choices"]?.arrayValue?.first else { continue }
            if let piece = choice["delta"]?["content"]?.stringValue ?? choice["text"]?.stringValue { text += piece }
            if let r = choice["delta"]?["role"]?.stringValue { role = r }
            if let f = choice["finish_reason"]?.stringValue { finish = f }
        }
        var message = JSONObjectWriter()
        message.string("role", role)
        message.string("content", text)
        var choice = JSONObjectWriter()
        choice.int("index", 0)
        choice.raw("message", message.finish())
        choice.optionalString("finish_reason", finish)
        return "[" + choice.finish() + "]"
    }

    /// The request's scalar members other than the model and the input (temperature,
    /// max_tokens, ...), as a JSON object.
    static func modelParameters(_ body: ByteBuffer?) -> String? {
        guard let body, let scan = try? JSONScanner.scanObject(body) else { return nil }
        var o = JSONObjectWriter()
        var any = false
        for i in scan.members.indices {
            let key = scan.key(at: i, in: body)
            guard !["model", "messages", "prompt", "input", "user", "metadata", "tools", "functions"].contains(key) else { continue }
            let m = scan.members[i]
            guard m.valueLead != UInt8(ascii: "{"), m.valueLead != UInt8(ascii: "["),
                  let raw = body.getString(at: body.readerIndex + m.valueStart, length: m.valueEnd - m.valueStart) else { continue }
            o.raw(key, raw)
            any = true
        }
        return any ? o.finish() : nil
    }

    /// `2026-01-02T03:04:05.123456Z`
    static func iso8601(unixNanos: UInt64) -> String {
        let seconds = Int(unixNanos / 1_000_000_000)
        let micros = Int(unixNanos % 1_000_000_000) / 1000
        var days = seconds / 86_400
        let rest = seconds % 86_400
        // Civil from days (Howard Hinnant's algorithm).
        days += 719_468
        let era = days / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, month, day, rest / 3600, rest / 60 % 60, rest % 60, micros)
    }
}
