import CallModel
import Foundation
import NIOCore
import OpenAIWire

/// What Langfuse shows of a call: a generation with its model, input, output, usage, cost,
/// latency (the span's own times, and the completion start), metadata, and errors as level
/// ERROR — the `langfuse.*` attributes of the call's span, written into the batch's buffer.
struct LangfuseAttributes {
    let start: UInt64
    let failure: (name: String, description: String)?
    /// The answer's `choices` in the response body.
    let choices: Range<Int>?
    /// A stream's answer, assembled (when there is no response body to take it from).
    let streamed: String?
    /// The most these attributes take (every value escaped).
    let bound: Int

    /// `e`: the call (its record is `r`), whose bodies are read in place.
    init(
        _ e: LoggedCall, record r: borrowing CallRecord, deployment: DeploymentSpanBytes?, start: UInt64,
        failure: (name: String, description: String)?
    ) {
        self.start = start
        self.failure = failure
        choices = r.route == .embeddings ? nil : r.responseBody.flatMap { JSONScanner.rawMember(#""choices""#, in: $0) ?? JSONScanner.firstMember("choices", in: $0) }
        streamed = r.route == .embeddings || choices != nil ? nil : Self.streamedOutput(r.streamedEvents)
        let bodies = e.requestBytes.count + (choices?.count ?? 0) + (streamed?.utf8.count ?? 0)
        bound = 4096 + 40 * bodies + 6 * (failure?.description.utf8.count ?? 0)
            + 6 * Self.metadataBound(r.callID, r.modelGroup, deployment)
    }

    /// A call's input and output cost, when its deployment has prices.
    static func costs(_ usage: TokenUsage?, _ d: DeploymentSpanBytes?) -> (input: Double, output: Double)? {
        guard let d, d.inputCostPerToken != nil || d.outputCostPerToken != nil else { return nil }
        return (Double(usage?.promptTokens ?? 0) * (d.inputCostPerToken ?? 0), Double(usage?.completionTokens ?? 0) * (d.outputCostPerToken ?? 0))
    }

    /// The trace's input and output are not written: Langfuse copies them from the trace's
    /// root observation, which the call's span is (the same bytes twice made a third of a
    /// call's Langfuse payload). Nor is the trace's metadata: the observation carries it, and
    /// LiteLLM sets a trace's metadata only from a request's own `trace_metadata`.
    /// The attributes of the call `e` (whose record this was made from). Its fields are read
    /// through the entry, a class: closures capturing a copy of the record would retain and
    /// release each of its references.
    /// `deployment`: the call's (the one it was made with).
    func write<W: SpanOut>(_ e: LoggedCall, _ deployment: DeploymentSpanBytes?, to out: inout W) {
        out.staticStringAttribute("langfuse.observation.type", "generation")
        out.staticStringAttribute("langfuse.trace.name", Self.traceName(e.record.route))
        if let model = deployment?.observationModel, !model.isEmpty {
            out.raw(model)
        } else {
            out.optionalStringAttribute("langfuse.observation.model.name", e.record.modelGroup)
        }
        let body = e.requestBytes
        if let input = e.input {
            out.stringAttribute("langfuse.observation.input", bytes: UnsafeRawBufferPointer(rebasing: body[input]))
        }
        if let answer = e.responseBytes, let choices {
            out.stringAttribute("langfuse.observation.output", bytes: UnsafeRawBufferPointer(rebasing: answer[choices]))
        } else if let streamed {
            out.stringAttribute("langfuse.observation.output", streamed)
        }
        let members = e.requestMembers
        if Self.hasModelParameters(members, body) {
            out.documentAttribute("langfuse.observation.model.parameters", bound: 16 + 3 * body.count) {
                Self.writeModelParameters(members, body, to: &$0)
            }
        }
        if let usage = e.record.usage {
            out.documentAttribute("langfuse.observation.usage_details", bound: 96) { d in
                d.raw("{\"input\":")
                d.decimal(usage.promptTokens)
                d.raw(",\"output\":")
                d.decimal(usage.completionTokens)
                d.raw(",\"total\":")
                d.decimal(usage.totalTokens)
                d.byte(UInt8(ascii: "}"))
            }
        }
        if let cost = Self.costs(e.record.usage, deployment) {
            out.documentAttribute("langfuse.observation.cost_details", bound: 128) { d in
                d.raw("{\"input\":")
                d.double(cost.input)
                d.raw(",\"output\":")
                d.double(cost.output)
                d.raw(",\"total\":")
                d.double(cost.input + cost.output)
                d.byte(UInt8(ascii: "}"))
            }
        }
        if e.record.timeToFirstByteNanoseconds > 0 {
            // A JSON string (quoted), as Langfuse's SDKs send it and its ingestion parses it.
            let firstToken = start &+ e.record.timeToFirstByteNanoseconds
            out.documentAttribute("langfuse.observation.completion_start_time", bound: 32) { d in
                d.byte(UInt8(ascii: "\""))
                d.iso8601(unixNanos: firstToken)
                d.byte(UInt8(ascii: "\""))
            }
        }
        if let failure {
            out.staticStringAttribute("langfuse.observation.level", "ERROR")
            out.stringAttribute("langfuse.observation.status_message", failure.description)
        } else if e.record.status >= 400 {
            out.staticStringAttribute("langfuse.observation.level", "ERROR")
            out.stringAttribute("langfuse.observation.status_message", "answered \(e.record.status)")
        }
        out.documentAttribute("langfuse.observation.metadata", bound: Self.metadataBound(e.record.callID, e.record.modelGroup, deployment)) {
            Self.writeMetadata(e, deployment, to: &$0)
        }
    }

    /// The most the metadata object takes (before it is escaped as a string).
    private static func metadataBound(_ callID: String, _ modelGroup: String?, _ d: DeploymentSpanBytes?) -> Int {
        256 + 6 * (callID.utf8.count + (modelGroup?.utf8.count ?? 0)) + (d?.metadata.count ?? 0)
    }

    /// The metadata object (call id, model group and deployment, status, timings, key alias).
    private static func writeMetadata(_ e: LoggedCall, _ deployment: DeploymentSpanBytes?, to m: inout JSONOut) {
        m.raw("{\"call_id\":")
        m.string(e.record.callID)
        m.raw(",\"model_group\":")
        m.stringOrNull(e.record.modelGroup)
        if let deployment {
            m.raw(deployment.metadata)
        } else {
            m.raw(",\"model_id\":null,\"api_base\":null")
        }
        m.raw(",\"status_code\":")
        m.decimal(e.record.status)
        m.raw(e.record.stream ? ",\"stream\":true,\"attempts\":" : ",\"stream\":false,\"attempts\":")
        m.decimal(e.record.attemptCount)
        m.raw(",\"latency_ms\":")
        m.fixedPoint(e.record.totalNanoseconds, fractionDigits: 6)
        m.raw(",\"overhead_ms\":")
        m.fixedPoint(e.record.overheadNanoseconds, fractionDigits: 6)
        if e.record.caller == .masterKey { m.raw(",\"user_api_key_alias\":\"master_key\"") }
        m.byte(UInt8(ascii: "}"))
    }

    /// `litellm-{call type}`.
    static func traceName(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .chatCompletions: return "litellm-acompletion"
        case .completions: return "litellm-atext_completion"
        case .embeddings: return "litellm-aembedding"
        }
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
        var out = ByteBuffer()
        out.writeStaticString("[{\"index\":0,\"message\":{\"role\":")
        out.writeJSONString(role)
        out.writeStaticString(",\"content\":")
        out.writeJSONString(text)
        out.writeStaticString("},\"finish_reason\":")
        if let finish { out.writeJSONString(finish) } else { out.writeStaticString("null") }
        out.writeStaticString("}]")
        return String(buffer: out)
    }

    /// Whether the request has scalar members other than the model and the input.
    static func hasModelParameters(_ members: UnsafeBufferPointer<JSONMemberSpan>, _ bytes: UnsafeRawBufferPointer) -> Bool {
        members.contains { m in m.valueLead != UInt8(ascii: "{") && m.valueLead != UInt8(ascii: "[") && !skipped(m, bytes) }
    }

    /// The request's scalar members other than the model and the input (temperature,
    /// max_tokens, ...), as a JSON object (at most three times the body's size).
    /// (A key is copied as the request wrote it, escapes and all: it is a valid JSON string.)
    static func writeModelParameters(_ members: UnsafeBufferPointer<JSONMemberSpan>, _ bytes: UnsafeRawBufferPointer, to out: inout JSONOut) {
        var any = false
        for m in members {
            guard m.valueLead != UInt8(ascii: "{"), m.valueLead != UInt8(ascii: "["), !skipped(m, bytes) else { continue }
            out.byte(UInt8(ascii: any ? "," : "{"))
            any = true
            out.byte(UInt8(ascii: "\""))
            out.raw(UnsafeRawBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd]))
            out.byte(UInt8(ascii: "\""))
            out.byte(UInt8(ascii: ":"))
            out.raw(UnsafeRawBufferPointer(rebasing: bytes[m.valueStart..<m.valueEnd]))
        }
        if any { out.byte(UInt8(ascii: "}")) }
    }

    private static let skippedNames: [StaticString] = ["model", "messages", "prompt", "input", "user", "metadata", "tools", "functions"]

    /// Whether the member is not a model parameter.
    private static func skipped(_ m: JSONMemberSpan, _ bytes: UnsafeRawBufferPointer) -> Bool {
        for name in skippedNames where JSONObjectScan.keyEquals(m, UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), bytes) {
            return true
        }
        return false
    }
}
