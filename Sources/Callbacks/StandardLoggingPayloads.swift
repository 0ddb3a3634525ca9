import CallModel
import NIOCore
import OpenAIWire

/// Writes LiteLLM's StandardLoggingPayload objects (the `generic_api` callback's) straight
/// into a batch's buffer. What a deployment contributes (provider, model, id, address) is
/// escaped once, when the callback is made; per call only what varies is formatted.
struct StandardLoggingPayloads: Sendable {
    /// One deployment's values as JSON, ready to copy.
    struct Deployment: Sendable {
        /// `"openai"` or `null`.
        let provider: ByteBuffer
        /// `,"model":…,"model_id":…`
        let modelAndID: ByteBuffer
        /// `,"api_base":…`
        let apiBase: ByteBuffer
        /// `,"hidden_params":{"model_id":…,"api_base":…` — the timings follow.
        let hidden: ByteBuffer
        let inputCostPerToken: Double?
        let outputCostPerToken: Double?

        init(id: String?, entry d: DeploymentDirectory.Entry?) {
            provider = .bytes { $0.writeJSONStringOrNull(d?.provider) }
            modelAndID = .bytes { out in
                out.writeStaticString(",\"model\":")
                out.writeJSONStringOrNull(d?.model)
                out.writeStaticString(",\"model_id\":")
                out.writeJSONStringOrNull(id)
            }
            apiBase = .bytes { out in
                out.writeStaticString(",\"api_base\":")
                out.writeJSONStringOrNull(d?.apiBase)
            }
            hidden = .bytes { out in
                out.writeStaticString(",\"hidden_params\":{\"model_id\":")
                out.writeJSONStringOrNull(id)
                out.writeStaticString(",\"api_base\":")
                out.writeJSONStringOrNull(d?.apiBase)
            }
            inputCostPerToken = d?.inputCostPerToken
            outputCostPerToken = d?.outputCostPerToken
        }
    }

    private let known: [String: Deployment]
    /// A call without a deployment (refused before one was chosen).
    private let none = Deployment(id: nil, entry: nil)

    init(directory: DeploymentDirectory) {
        var known: [String: Deployment] = [:]
        for (id, entry) in directory.entries { known[id] = Deployment(id: id, entry: entry) }
        self.known = known
    }

    private func deployment(_ id: String?) -> Deployment {
        guard let id else { return none }
        return known[id] ?? Deployment(id: id, entry: nil)
    }

    /// One StandardLoggingPayload object; `now` is when the call ended (Unix nanoseconds).
    func write(_ r: CallRecord, now: UInt64, to out: inout ByteBuffer) {
        let end = Double(now) / 1e9
        let start = end - Double(r.totalNanoseconds) / 1e9
        let firstByte = r.timeToFirstByteNanoseconds > 0 ? start + Double(r.timeToFirstByteNanoseconds) / 1e9 : end
        let d = deployment(r.deploymentID)
        let prompt = r.usage?.promptTokens ?? 0
        let completion = r.usage?.completionTokens ?? 0
        let cost = Double(prompt) * (d.inputCostPerToken ?? 0) + Double(completion) * (d.outputCostPerToken ?? 0)
        let succeeded = r.succeeded

        out.writeStaticString("{\"id\":")
        let at = out.writerIndex
        out.writeJSONString(r.callID)
        let idLength = out.writerIndex - at
        out.writeStaticString(",\"trace_id\":")
        out.writeAgain(from: at, length: idLength)
        out.writeStaticString(",\"litellm_call_id\":")
        out.writeAgain(from: at, length: idLength)
        out.writeStaticString(Self.callType(r.route))
        out.writeStaticString(r.stream ? ",\"stream\":true,\"response_cost\":" : ",\"stream\":false,\"response_cost\":")
        out.writeFiniteDouble(cost)
        out.writeStaticString(succeeded
            ? #","status":"success","status_fields":{"llm_api_status":"success","guardrail_status":"not_run"},"custom_llm_provider":"#
            : #","status":"failure","status_fields":{"llm_api_status":"failure","guardrail_status":"not_run"},"custom_llm_provider":"#)
        out.writeImmutableBuffer(d.provider)
        out.writeStaticString(",\"total_tokens\":")
        out.writeDecimal(prompt + completion)
        out.writeStaticString(",\"prompt_tokens\":")
        out.writeDecimal(prompt)
        out.writeStaticString(",\"completion_tokens\":")
        out.writeDecimal(completion)
        out.writeStaticString(",\"startTime\":")
        out.writeFiniteDouble(start)
        out.writeStaticString(",\"endTime\":")
        out.writeFiniteDouble(end)
        out.writeStaticString(",\"completionStartTime\":")
        out.writeFiniteDouble(firstByte)
        out.writeStaticString(",\"response_time\":")
        out.writeFiniteDouble(end - start)
        out.writeImmutableBuffer(d.modelAndID)
        out.writeStaticString(",\"model_group\":")
        out.writeJSONStringOrNull(r.modelGroup)
        out.writeImmutableBuffer(d.apiBase)
        out.writeStaticString(r.caller == .masterKey
            ? #","metadata":{"user_api_key_alias":"master_key"},"cache_hit":false,"messages":"#
            : #","metadata":{},"cache_hit":false,"messages":"#)
        let inputKey = LangfuseAttributes.inputKey(r.route)
        if let body = r.requestBody, let input = firstMember(try? JSONScanner.scanObject(body), body, inputKey) {
            out.writeRaw(of: body, input)
        } else {
            out.writeStaticString("null")
        }
        out.writeStaticString(",\"response\":")
        if let body = r.responseBody { out.writeImmutableBuffer(body) } else { out.writeStaticString("null") }
        if let failure = r.failure {
            let description = failure.description
            out.writeStaticString(",\"error_str\":")
            out.writeJSONString(description)
            out.writeStaticString(",\"error_information\":{\"error_code\":\"")
            out.writeDecimal(r.status)
            out.writeStaticString("\",\"error_class\":")
            out.writeJSONString(failure.name)
            out.writeStaticString(",\"llm_provider\":")
            out.writeImmutableBuffer(d.provider)
            out.writeStaticString(",\"error_message\":")
            out.writeJSONString(description)
            out.writeInteger(UInt8(ascii: "}"))
        } else {
            out.writeStaticString(",\"error_str\":null")
        }
        out.writeStaticString(",\"model_parameters\":{}")
        out.writeImmutableBuffer(d.hidden)
        out.writeStaticString(",\"litellm_overhead_time_ms\":")
        out.writeFiniteDouble(Double(r.overheadNanoseconds) / 1e6)
        out.writeStaticString(",\"response_cost\":")
        out.writeFiniteDouble(cost)
        out.writeStaticString("}}")
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
