import CallModel
import NIOCore
import OpenAIWire

/// Writes LiteLLM's StandardLoggingPayload objects (the `generic_api` callback's) straight
/// into a batch's buffer. What a deployment contributes (provider, model, id, address) is
/// escaped once, when the callback is made; per call only what varies is formatted.
struct StandardLoggingPayloads: Sendable {
    /// One deployment's values as JSON, ready to copy. A class: a lookup shares it (a struct
    /// would retain and release each of its arrays per call).
    final class Deployment: Sendable {
        /// `"openai"` or `null`.
        let provider: [UInt8]
        /// `,"model":…,"model_id":…`
        let modelAndID: [UInt8]
        /// `,"api_base":…`
        let apiBase: [UInt8]
        /// `,"hidden_params":{"model_id":…,"api_base":…` — the timings follow.
        let hidden: [UInt8]
        /// The most the fragments above take together (twice the provider).
        let bound: Int
        let inputCostPerToken: Double?
        let outputCostPerToken: Double?

        init(id: String?, entry d: DeploymentDirectory.Entry?) {
            let strings = (id?.utf8.count ?? 0) + (d?.model.utf8.count ?? 0) + (d?.provider.utf8.count ?? 0) + (d?.apiBase?.utf8.count ?? 0)
            let bound = 128 + 6 * strings
            provider = JSONOut.bytes(bound: bound) { $0.stringOrNull(d?.provider) }
            modelAndID = JSONOut.bytes(bound: bound) { out in
                out.raw(",\"model\":")
                out.stringOrNull(d?.model)
                out.raw(",\"model_id\":")
                out.stringOrNull(id)
            }
            apiBase = JSONOut.bytes(bound: bound) { out in
                out.raw(",\"api_base\":")
                out.stringOrNull(d?.apiBase)
            }
            hidden = JSONOut.bytes(bound: bound) { out in
                out.raw(",\"hidden_params\":{\"model_id\":")
                out.stringOrNull(id)
                out.raw(",\"api_base\":")
                out.stringOrNull(d?.apiBase)
            }
            inputCostPerToken = d?.inputCostPerToken
            outputCostPerToken = d?.outputCostPerToken
            self.bound = 2 * provider.count + modelAndID.count + apiBase.count + hidden.count
        }
    }

    private let known: [String: Deployment]
    /// By slot (`AttemptRecord.deploymentIndex`), with each one's id.
    private let bySlot: [(id: String, deployment: Deployment)]
    /// A call without a deployment (refused before one was chosen).
    private let none = Deployment(id: nil, entry: nil)

    init(directory: DeploymentDirectory) {
        var known: [String: Deployment] = [:]
        for (id, entry) in directory.entries { known[id] = Deployment(id: id, entry: entry) }
        self.known = known
        bySlot = directory.ids.compactMap { id in known[id].map { (id, $0) } }
    }

    private func deployment(_ id: String?, slot: Int?) -> Deployment {
        guard let id else { return none }
        if let slot, slot >= 0, slot < bySlot.count, bySlot[slot].id == id { return bySlot[slot].deployment }
        return known[id] ?? Deployment(id: id, entry: nil)
    }

    /// One StandardLoggingPayload object.
    func write(_ e: LoggedCall, to buffer: inout ByteBuffer) {
        let now = e.endUnixNanos
        // Times as exact decimal seconds from the nanoseconds (no `Double` formatting, which
        // allocates a `String` for a timestamp's 17 digits).
        let total = min(now, e.record.totalNanoseconds)
        let start = now - total
        let firstByte = e.record.timeToFirstByteNanoseconds > 0 ? start &+ e.record.timeToFirstByteNanoseconds : now
        let d = deployment(e.record.deploymentID, slot: e.record.lastDeploymentIndex)
        let prompt = e.record.usage?.promptTokens ?? 0
        let completion = e.record.usage?.completionTokens ?? 0
        let cost = Double(prompt) * (d.inputCostPerToken ?? 0) + Double(completion) * (d.outputCostPerToken ?? 0)
        let succeeded = e.record.succeeded
        let failure = e.record.failure.map { (name: $0.name, description: $0.description) }
        let bodies = e.requestBytes.count + (e.responseBytes?.count ?? 0)
        let strings = 3 * e.record.callID.utf8.count + (e.record.modelGroup?.utf8.count ?? 0) + (failure.map { $0.name.utf8.count + 2 * $0.description.utf8.count } ?? 0)
        buffer.writeJSON(bound: 2048 + bodies + 6 * strings + d.bound) { out in
            out.raw("{\"id\":")
            let at = out.count
            out.string(e.record.callID)
            let id = at..<out.count
            out.raw(",\"trace_id\":")
            out.again(id)
            out.raw(",\"litellm_call_id\":")
            out.again(id)
            out.raw(Self.callType(e.record.route))
            out.raw(e.record.stream ? ",\"stream\":true,\"response_cost\":" : ",\"stream\":false,\"response_cost\":")
            out.finiteDouble(cost)
            out.raw(succeeded
                ? #","status":"success","status_fields":{"llm_api_status":"success","guardrail_status":"not_run"},"custom_llm_provider":"#
                : #","status":"failure","status_fields":{"llm_api_status":"failure","guardrail_status":"not_run"},"custom_llm_provider":"#)
            out.raw(d.provider)
            out.raw(",\"total_tokens\":")
            out.decimal(prompt + completion)
            out.raw(",\"prompt_tokens\":")
            out.decimal(prompt)
            out.raw(",\"completion_tokens\":")
            out.decimal(completion)
            out.raw(",\"startTime\":")
            out.fixedPoint(start, fractionDigits: 9)
            out.raw(",\"endTime\":")
            out.fixedPoint(now, fractionDigits: 9)
            out.raw(",\"completionStartTime\":")
            out.fixedPoint(firstByte, fractionDigits: 9)
            out.raw(",\"response_time\":")
            out.fixedPoint(total, fractionDigits: 9)
            out.raw(d.modelAndID)
            out.raw(",\"model_group\":")
            out.stringOrNull(e.record.modelGroup)
            out.raw(d.apiBase)
            out.raw(e.record.caller == .masterKey
                ? #","metadata":{"user_api_key_alias":"master_key"},"cache_hit":false,"messages":"#
                : #","metadata":{},"cache_hit":false,"messages":"#)
            if let input = e.input { out.raw(UnsafeRawBufferPointer(rebasing: e.requestBytes[input])) } else { out.raw("null") }
            out.raw(",\"response\":")
            if let body = e.responseBytes { out.raw(body) } else { out.raw("null") }
            if let failure {
                out.raw(",\"error_str\":")
                out.string(failure.description)
                out.raw(",\"error_information\":{\"error_code\":\"")
                out.decimal(e.record.status)
                out.raw("\",\"error_class\":")
                out.string(failure.name)
                out.raw(",\"llm_provider\":")
                out.raw(d.provider)
                out.raw(",\"error_message\":")
                out.string(failure.description)
                out.byte(UInt8(ascii: "}"))
            } else {
                out.raw(",\"error_str\":null")
            }
            out.raw(",\"model_parameters\":{}")
            out.raw(d.hidden)
            out.raw(",\"litellm_overhead_time_ms\":")
            out.fixedPoint(e.record.overheadNanoseconds, fractionDigits: 6)
            out.raw(",\"response_cost\":")
            out.finiteDouble(cost)
            out.raw("}}")
        }
    }

    /// `,"call_type":"…"`
    static func callType(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .chatCompletions: return #","call_type":"acompletion""#
        case .completions: return #","call_type":"atext_completion""#
        case .embeddings: return #","call_type":"aembedding""#
        }
    }
}
