import CallModel
import Foundation
import NIOCore
import OpenAIWire

/// LiteLLM's `generic_api` callback: each finished call as a StandardLoggingPayload object, sent
/// in JSON arrays to `GENERIC_LOGGER_ENDPOINT` with `GENERIC_LOGGER_HEADERS` (`k=v,k2=v2`).
/// The record is queued as it is; it is turned into JSON, and POSTed, on the sender's task.
public final class GenericAPICallback: CallRecordSink, Sendable {
    let sender: BatchingSender<QueuedCall>
    let directory: DeploymentDirectory
    /// Log successes, failures, or both (`success_callback` / `failure_callback` / `callbacks`).
    let onSuccess: Bool
    let onFailure: Bool

    public init(sender: BatchingSender<QueuedCall>, directory: DeploymentDirectory, onSuccess: Bool, onFailure: Bool) {
        self.sender = sender
        self.directory = directory
        self.onSuccess = onSuccess
        self.onFailure = onFailure
    }

    public func record(_ r: CallRecord) {
        if case .clientGone? = r.failure { return }
        let success = r.succeeded
        guard success ? onSuccess : onFailure else { return }
        sender.add(QueuedCall(r))
    }

    /// A batch → a JSON array of StandardLoggingPayload objects.
    static func encoder(directory: DeploymentDirectory) -> BatchingSender<QueuedCall>.Encode {
        { calls in
            BatchingSender<ByteBuffer>.jsonArray(calls.map { payload($0.record, directory: directory, now: Double($0.endUnixNanos) / 1e9) })
        }
    }

    /// `k=v,k2=v2` → header pairs.
    public static func headers(_ text: String?) -> [(String, String)] {
        (text ?? "").split(separator: ",").compactMap { pair in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
            let value = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            return name.isEmpty ? nil : (name, value)
        }
    }

    static func callType(_ route: CallRecord.Route) -> String {
        switch route {
        case .chatCompletions: return "acompletion"
        case .completions: return "atext_completion"
        case .embeddings: return "aembedding"
        }
    }

    /// One StandardLoggingPayload object.
    static func payload(_ r: CallRecord, directory: DeploymentDirectory, now: Double) -> ByteBuffer {
        let end = now
        let start = end - Double(r.totalNanoseconds) / 1e9
        let firstByte = r.timeToFirstByteNanoseconds > 0 ? start + Double(r.timeToFirstByteNanoseconds) / 1e9 : end
        let d = directory[r.deploymentID]
        let prompt = r.usage?.promptTokens ?? 0
        let completion = r.usage?.completionTokens ?? 0
        let cost = Double(prompt) * (d?.inputCostPerToken ?? 0) + Double(completion) * (d?.outputCostPerToken ?? 0)
        var o = JSONObjectWriter()
        o.string("id", r.callID)
        o.string("trace_id", r.callID)
        o.string("litellm_call_id", r.callID)
        o.string("call_type", callType(r.route))
        o.bool("stream", r.stream)
        o.double("response_cost", cost)
        o.string("status", r.succeeded ? "success" : "failure")
        o.raw("status_fields", r.succeeded ? #"{"llm_api_status":"success","guardrail_status":"not_run"}"# : #"{"llm_api_status":"failure","guardrail_status":"not_run"}"#)
        o.optionalString("custom_llm_provider", d?.provider)
        o.int("total_tokens", prompt + completion)
        o.int("prompt_tokens", prompt)
        o.int("completion_tokens", completion)
        o.double("startTime", start)
        o.double("endTime", end)
        o.double("completionStartTime", firstByte)
        o.double("response_time", end - start)
        o.optionalString("model", d?.model)
        o.optionalString("model_id", r.deploymentID)
        o.optionalString("model_group", r.modelGroup)
        o.optionalString("api_base", d?.apiBase)
        o.raw("metadata", r.caller == .masterKey ? #"{"user_api_key_alias":"master_key"}"# : "{}")
        o.bool("cache_hit", false)
        o.raw("messages", Self.member(r.requestBody, r.route == .embeddings ? "input" : (r.route == .completions ? "prompt" : "messages")) ?? "null")
        o.raw("response", r.responseBody.map { String(buffer: $0) } ?? "null")
        if let failure = r.failure {
            o.string("error_str", failure.description)
            var e = JSONObjectWriter()
            e.string("error_code", String(r.status))
            e.string("error_class", failure.name)
            e.optionalString("llm_provider", d?.provider)
            e.string("error_message", failure.description)
            o.raw("error_information", e.finish())
        } else {
            o.raw("error_str", "null")
        }
        o.raw("model_parameters", "{}")
        var hidden = JSONObjectWriter()
        hidden.optionalString("model_id", r.deploymentID)
        hidden.optionalString("api_base", d?.apiBase)
        hidden.double("litellm_overhead_time_ms", Double(r.overheadNanoseconds) / 1e6)
        hidden.double("response_cost", cost)
        o.raw("hidden_params", hidden.finish())
        return ByteBuffer(string: o.finish())
    }

    /// A top-level member of the request body, as raw JSON.
    static func member(_ body: ByteBuffer?, _ key: String) -> String? {
        guard let body, let scan = try? JSONScanner.scanObject(body) else { return nil }
        for i in scan.members.indices where scan.key(at: i, equals: key, in: body) {
            let m = scan.members[i]
            return body.getString(at: body.readerIndex + m.valueStart, length: m.valueEnd - m.valueStart)
        }
        return nil
    }
}

/// Writes one JSON object member by member.
struct JSONObjectWriter {
    private var out = ByteBuffer()
    private var first = true

    private mutating func key(_ name: String) {
        out.writeInteger(UInt8(ascii: first ? "{" : ","))
        first = false
        out.writeJSONString(name)
        out.writeInteger(UInt8(ascii: ":"))
    }

    mutating func string(_ name: String, _ value: String) { key(name); out.writeJSONString(value) }
    mutating func optionalString(_ name: String, _ value: String?) {
        if let value { string(name, value) } else { raw(name, "null") }
    }
    mutating func int(_ name: String, _ value: Int) { key(name); out.writeString(String(value)) }
    mutating func double(_ name: String, _ value: Double) { key(name); out.writeString(value.isFinite ? String(value) : "0") }
    mutating func bool(_ name: String, _ value: Bool) { key(name); out.writeString(value ? "true" : "false") }
    mutating func raw(_ name: String, _ json: String) { key(name); out.writeString(json) }

    mutating func finish() -> String {
        if first { out.writeInteger(UInt8(ascii: "{")) }
        out.writeInteger(UInt8(ascii: "}"))
        return String(buffer: out)
    }
}
