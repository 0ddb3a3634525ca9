import CallModel
import NIOCore
import OpenAIWire

/// Turns call records into OTLP spans: one span per call (kind server, named
/// `{operation} {model group}`) and one child span per attempt (kind client, named
/// `{operation} {deployment model}`), with the OpenTelemetry GenAI semantic-convention
/// attribute names. The Langfuse flavour adds the `langfuse.*` attributes Langfuse's OTLP
/// ingestion maps (type generation, input, output, usage and cost details, metadata, level).
///
/// The spans are written straight into the batch's buffer in the exporter's encoding `W`
/// (``SpanOut``: protobuf or JSON): a deployment's attributes come from
/// ``DeploymentSpanBytes`` made once, and per call only what varies is formatted (ids,
/// times, tokens, status, costs, input and output).
struct CallSpanWriter<W: SpanOut>: Sendable {
    typealias Flavor = CallSpans.Flavor

    let directory: DeploymentDirectory
    let flavor: Flavor
    /// Every configured deployment's span bytes, by id, and by slot (owned by `known`).
    private let known: [String: DeploymentSpanBytes]
    private let bySlot: [Unmanaged<DeploymentSpanBytes>]
    /// The span bytes of ids the config does not know, made once each and kept.
    private let strays = StrayDeployments()

    init(directory: DeploymentDirectory, flavor: Flavor) {
        self.directory = directory
        self.flavor = flavor
        var known: [String: DeploymentSpanBytes] = [:]
        for (id, entry) in directory.entries { known[id] = DeploymentSpanBytes(id: id, entry: entry, flavor: flavor, as: W.self) }
        self.known = known
        bySlot = directory.ids.compactMap { known[$0].map(Unmanaged.passUnretained) }
    }

    /// A deployment's span bytes, found by the attempt's slot when it holds that id (comparing
    /// the id, usually the very same string, is cheaper than hashing it). Unretained: this
    /// writer keeps every one it hands out, and a call's spans are written inside
    /// `_withUnsafeGuaranteedRef` (a returned reference cost a retain and a release a span).
    func deployment(_ id: String, slot: Int?) -> Unmanaged<DeploymentSpanBytes> {
        if let slot, slot >= 0, slot < bySlot.count, bySlot[slot]._withUnsafeGuaranteedRef({ $0.id == id }) { return bySlot[slot] }
        if let d = known[id] { return .passUnretained(d) }
        return strays.get(id) { DeploymentSpanBytes(id: id, entry: nil, flavor: flavor, as: W.self) }
    }

    /// Roughly what one call's spans take (the buffer of a batch is reserved up front).
    var bytesPerCall: Int { flavor == .langfuse ? 6144 : 3072 }

    /// Writes the call's span and its attempts' spans (`first`: the request's first spans).
    func write(_ entry: LoggedCall, first: Bool, to buffer: inout ByteBuffer) {
        guard let id = entry.record.deploymentID else {
            return write(entry.record, entry, nil, end: entry.endUnixNanos, first: first, to: &buffer)
        }
        deployment(id, slot: entry.record.lastDeploymentIndex)._withUnsafeGuaranteedRef {
            write(entry.record, entry, $0, end: entry.endUnixNanos, first: first, to: &buffer)
        }
    }

    /// `r` is borrowed from the entry: no copy of the record (a retain and release of each of
    /// its references) per call and encoding. `dep`: the deployment of the last attempt.
    private func write(
        _ r: borrowing CallRecord, _ entry: LoggedCall, _ dep: DeploymentSpanBytes?, end: UInt64, first: Bool, to buffer: inout ByteBuffer
    ) {
        let start = end &- min(end, r.totalNanoseconds)
        let trace = entry.trace
        let seed = trace.high ^ trace.low
        let rootID = CallSpans.spanID(seed, 0)
        let operation = CallSpans.operation(r.route)
        let failure = r.failure.map { (name: $0.name, description: $0.description) }
        let langfuse = flavor == .langfuse ? LangfuseAttributes(entry, record: r, deployment: dep, start: start, failure: failure) : nil

        // Every string escaped (at most 6 bytes a byte; the call id and model group also sit
        // twice escaped in the Langfuse metadata), plus the constant keys.
        let small = r.callID.utf8.count + (r.modelGroup?.utf8.count ?? 7)
        let failed = failure.map { $0.name.utf8.count + 2 * $0.description.utf8.count } ?? 0
        let bound = 4096 + 80 * small + 6 * failed + 20 * (dep?.longest ?? 0) + (langfuse?.bound ?? 0)
        buffer.writeSpans(W.self, bound: bound) { out in
            out.spanHead(trace: trace, spanID: rootID, parent: nil, first: first)
            out.spanName(operation, r.modelGroup)
            out.spanTimes(kind: .server, start: start, end: end, operation: operation)
            let error = writeCallAttributes(r, dep, failure: failure, to: &out)
            langfuse?.write(entry, dep, to: &out)
            out.spanEnd(error: error)
        }

        // Langfuse shows a call as its one generation; the attempts are child spans only when
        // they tell more than it does (a retry, a fallback, a failure), as LiteLLM's Langfuse
        // logging shows one generation a call.
        if r.firstAttempt != nil, flavor == .otel || !r.laterAttempts.isEmpty || r.firstAttemptFailed {
            // Each attempt is read in place (a copy would retain and release its references).
            writeAttempt(r.firstAttempt!, n: 1, trace: trace, seed: seed, parent: rootID, start: start, end: end, operation: operation, to: &buffer)
            for i in r.laterAttempts.indices {
                writeAttempt(r.laterAttempts[i], n: UInt64(i) + 2, trace: trace, seed: seed, parent: rootID, start: start, end: end, operation: operation, to: &buffer)
            }
        }
    }

    /// The call span's attributes but Langfuse's (after `gen_ai.operation.name`); answers its
    /// error status message (`nil`: success).
    private func writeCallAttributes(
        _ r: borrowing CallRecord, _ dep: DeploymentSpanBytes?, failure: (name: String, description: String)?, to out: inout W
    ) -> String? {
        if let dep { out.raw(dep.provider) }
        out.optionalStringAttribute("gen_ai.request.model", r.modelGroup)
        if let dep { out.raw(dep.responseModel) }
        if let usage = r.usage {
            out.intAttribute("gen_ai.usage.input_tokens", usage.promptTokens)
            out.intAttribute("gen_ai.usage.output_tokens", usage.completionTokens)
            out.intAttribute("gen_ai.usage.total_tokens", usage.totalTokens)
            if usage.estimated { out.boolAttribute("switchboard.usage.estimated", true) }
        }
        if let cost = LangfuseAttributes.costs(r.usage, dep) { out.doubleAttribute("gen_ai.usage.cost", cost.input + cost.output) }
        // Langfuse files every attribute it does not map under the observation's metadata:
        // there, the status, route and the gateway's own facts would repeat the metadata object
        // (call id, model group and deployment, status, stream, attempts, latency, overhead).
        guard flavor == .otel else {
            if r.mocked { out.boolAttribute("switchboard.mocked", true) }
            return failureStatus(r, failure, to: &out)
        }
        out.intAttribute("http.response.status_code", r.status)
        out.staticStringAttribute("http.route", CallSpans.route(r.route))
        out.stringAttribute("switchboard.call_id", r.callID)
        out.optionalStringAttribute("switchboard.model_group", r.modelGroup)
        if let dep { out.raw(dep.idAndBase) }
        out.boolAttribute("switchboard.stream", r.stream)
        out.intAttribute("switchboard.attempts", r.attemptCount)
        out.doubleAttribute("switchboard.overhead_ms", Double(r.overheadNanoseconds) / 1e6)
        if r.timeToFirstByteNanoseconds > 0 { out.doubleAttribute("switchboard.time_to_first_byte_ms", Double(r.timeToFirstByteNanoseconds) / 1e6) }
        if r.mocked { out.boolAttribute("switchboard.mocked", true) }
        return failureStatus(r, failure, to: &out)
    }

    /// `error.type` of a failed call, and its status message (`nil`: success).
    private func failureStatus(_ r: borrowing CallRecord, _ failure: (name: String, description: String)?, to out: inout W) -> String? {
        if let failure {
            out.stringAttribute("error.type", failure.name)
            return failure.description
        } else if r.status >= 400 {
            out.stringAttribute("error.type", String(r.status))
            return "answered \(r.status)"
        }
        return nil
    }

    /// One attempt's span.
    private func writeAttempt(
        _ attempt: borrowing AttemptRecord, n: UInt64, trace: TraceID, seed: UInt64, parent: UInt64, start: UInt64, end: UInt64,
        operation: StaticString, to buffer: inout ByteBuffer
    ) {
        deployment(attempt.deploymentID, slot: attempt.deploymentIndex)._withUnsafeGuaranteedRef {
            writeAttempt(attempt, $0, n: n, trace: trace, seed: seed, parent: parent, start: start, end: end, operation: operation, to: &buffer)
        }
    }

    /// One attempt's span, of deployment `ad`.
    private func writeAttempt(
        _ attempt: borrowing AttemptRecord, _ ad: DeploymentSpanBytes, n: UInt64, trace: TraceID, seed: UInt64, parent: UInt64,
        start: UInt64, end: UInt64, operation: StaticString, to buffer: inout ByteBuffer
    ) {
        let attemptStart = start &+ attempt.startNanoseconds
        let attemptEnd = min(end, attemptStart &+ attempt.durationNanoseconds)
        let reason = attempt.reason
        let status = attempt.upstreamStatus
        let firstByte = attempt.firstByteNanoseconds
        let failure = attempt.failure.map { (name: $0.name, description: $0.description) }
        let failed = failure.map { $0.name.utf8.count + $0.description.utf8.count } ?? 0
        let bound = 1024 + 6 * (ad.longest + failed + reason.rawValue.utf8.count)
        buffer.writeSpans(W.self, bound: bound) { out in
            out.spanHead(trace: trace, spanID: CallSpans.spanID(seed, n), parent: parent, first: false)
            out.spanName(operation, encodedTail: ad.nameTail)
            out.spanTimes(kind: .client, start: attemptStart, end: attemptEnd, operation: operation)
            out.raw(ad.provider)
            // Langfuse makes every span naming a model a generation: its attempts name the model
            // under our own key, so the call stays the one generation (with the usage and cost).
            out.raw(ad.attemptModel)
            out.raw(ad.idAndBase)
            out.stringAttribute("switchboard.attempt.reason", reason.rawValue)
            if status > 0 { out.intAttribute("http.response.status_code", status) }
            if firstByte > 0 { out.doubleAttribute("switchboard.time_to_first_byte_ms", Double(firstByte) / 1e6) }
            if let failure { out.stringAttribute("error.type", failure.name) }
            if flavor == .langfuse { out.staticStringAttribute("langfuse.observation.type", "span") }
            out.spanEnd(error: failure?.description)
        }
    }
}

/// What does not depend on the encoding: the flavours, names, ids, times.
enum CallSpans {
    enum Flavor: Sendable {
        case otel
        case langfuse
    }

    static func operation(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .chatCompletions: return "chat"
        case .completions: return "text_completion"
        case .embeddings: return "embeddings"
        }
    }

    /// The route, as `http.route`.
    static func route(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .chatCompletions: return "/chat/completions"
        case .completions: return "/completions"
        case .embeddings: return "/embeddings"
        }
    }

    /// `openai/gpt-4o` → `gpt-4o`.
    static func bareModel(_ model: String) -> String {
        model.firstIndex(of: "/").map { String(model[model.index(after: $0)...]) } ?? model
    }

    /// The call id (a UUID) without its dashes is the trace id, so `x-litellm-call-id` finds
    /// the trace; anything else gets a random one. Read byte by byte (no `String` made).
    static func traceBits(callID: String) -> TraceID {
        // The string's own bytes (a copy of it to call `withUTF8` cost a retain and a release).
        func bits(_ bytes: UnsafeBufferPointer<UInt8>) -> TraceID {
            guard let bits = bytes.count == 36 ? uuidBits(bytes) : otherHexBits(bytes), bits.high | bits.low != 0 else {
                return randomTraceID()
            }
            return bits
        }
        if let id = callID.utf8.withContiguousStorageIfAvailable(bits) { return id }
        var id = callID
        return id.withUTF8(bits)
    }

    /// A hex digit's value, or 0x80 for any other byte (computed: a table is an array, retained
    /// and released at each use).
    @inline(__always)
    private static func hexValue(_ c: UInt8) -> UInt8 {
        let digit = c &- UInt8(ascii: "0")
        if digit < 10 { return digit }
        let letter = (c | 0x20) &- UInt8(ascii: "a")
        return letter < 6 ? letter &+ 10 : 0x80
    }

    /// `8-4-4-4-12` hex digits (the gateway's own call ids).
    private static func uuidBits(_ b: UnsafeBufferPointer<UInt8>) -> TraceID? {
        let dash = UInt8(ascii: "-")
        guard b[8] == dash, b[13] == dash, b[18] == dash, b[23] == dash else { return otherHexBits(b) }
        var bad: UInt8 = 0
        func digits(_ range: Range<Int>, into v: inout UInt64) {
            for i in range {
                let d = hexValue(b[i])
                bad |= d
                v = v << 4 | UInt64(d & 0xF)
            }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        digits(0..<8, into: &high)
        digits(9..<13, into: &high)
        digits(14..<18, into: &high)
        digits(19..<23, into: &low)
        digits(24..<36, into: &low)
        return bad & 0x80 == 0 ? TraceID(high: high, low: low) : nil
    }

    /// 32 hex digits with dashes anywhere.
    private static func otherHexBits(_ b: UnsafeBufferPointer<UInt8>) -> TraceID? {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for c in b where c != UInt8(ascii: "-") {
            let d = hexValue(c)
            guard d & 0x80 == 0, digits < 32 else { return nil }
            if digits < 16 { high = high << 4 | UInt64(d) } else { low = low << 4 | UInt64(d) }
            digits += 1
        }
        return digits == 32 ? TraceID(high: high, low: low) : nil
    }

    /// The trace id as 32 lowercase hex digits.
    static func traceID(callID: String) -> String {
        let id = traceBits(callID: callID)
        return String(decoding: JSONOut.bytes(bound: 32) { $0.hex16(id.high); $0.hex16(id.low) }, as: UTF8.self)
    }

    /// A random trace id, never zero: the trace of a call whose id is not a UUID.
    static func randomTraceID() -> TraceID {
        var g = SystemRandomNumberGenerator()
        return TraceID(high: g.next() | 1, low: g.next() | 1)
    }

    /// Random lowercase hex (`bytes` of 8 or 16), never all zeros.
    static func randomHex(bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        let n = max(1, bytes / 8)
        return String(decoding: JSONOut.bytes(bound: 16 * n) { out in for _ in 0..<n { out.hex16(g.next() | 1) } }, as: UTF8.self)
    }

    /// Span `n` of a trace (0: the call's span, 1...: its attempts), derived from the trace's
    /// seed (its 128 bits folded to 64) with SplitMix64: unique within the trace, the same when
    /// a batch is sent again, and no system randomness (one `getrandom` per span) on the
    /// callback's sender.
    static func spanID(_ seed: UInt64, _ n: UInt64) -> UInt64 {
        var z = seed &+ (n &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z == 0 ? 1 : z
    }

    /// `2026-01-02T03:04:05.123456Z`
    static func iso8601(unixNanos: UInt64) -> String {
        String(decoding: JSONOut.bytes(bound: 32) { $0.iso8601(unixNanos: unixNanos) }, as: UTF8.self)
    }
}
