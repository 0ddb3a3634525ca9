import CallModel
import Foundation
import NIOCore
import OpenAIWire

/// What Langfuse shows of a call: a generation with its model, input, output, usage, cost,
/// latency (the span's own times, and the completion start), metadata, and errors as level
/// ERROR — the `langfuse.*` attributes of the call's span, written into the batch's buffer.
/// Values that appear twice (on the observation and on the trace) are escaped once and their
/// escaped bytes copied.
struct LangfuseAttributes {
    let record: CallRecord
    let deployment: DeploymentSpanBytes?
    let start: UInt64
    let inputCost: Double
    let outputCost: Double
    let priced: Bool

    func write(to out: inout ByteBuffer, scratch: inout ByteBuffer) {
        let r = record
        out.staticStringAttribute("langfuse.observation.type", "generation")
        out.attributeKey("langfuse.trace.name", "stringValue")
        out.writeStaticString(Self.quotedTraceName(r.route))
        out.writeStaticString("}}")
        if let model = deployment?.observationModel, model.readableBytes > 0 {
            out.writeImmutableBuffer(model)
        } else {
            out.optionalStringAttribute("langfuse.observation.model.name", r.modelGroup)
        }
        let request = r.requestBody.flatMap { try? JSONScanner.scanObject($0) }
        if let body = r.requestBody, let input = firstMember(request, body, Self.inputKey(r.route)) {
            let value = Self.escapedValue(&out, "langfuse.observation.input") { $0.writeJSONString(of: body, input) }
            Self.repeatedValue(&out, "langfuse.trace.input", value)
        }
        if r.route != .embeddings {
            var value: Range<Int>?
            if let body = r.responseBody, let choices = firstMember(try? JSONScanner.scanObject(body), body, "choices") {
                value = Self.escapedValue(&out, "langfuse.observation.output") { $0.writeJSONString(of: body, choices) }
            } else if let streamed = Self.streamedOutput(r.streamedEvents) {
                value = Self.escapedValue(&out, "langfuse.observation.output") { $0.writeJSONString(streamed) }
            }
            if let value { Self.repeatedValue(&out, "langfuse.trace.output", value) }
        }
        if let body = r.requestBody, let request {
            scratch.clear()
            if Self.writeModelParameters(request, body, to: &scratch) {
                _ = Self.escapedValue(&out, "langfuse.observation.model.parameters") { $0.writeJSONString(of: scratch, 0..<scratch.readableBytes) }
            }
        }
        if let usage = r.usage {
            out.attributeKey("langfuse.observation.usage_details", "stringValue")
            out.writeStaticString("\"{\\\"input\\\":")
            out.writeDecimal(usage.promptTokens)
            out.writeStaticString(",\\\"output\\\":")
            out.writeDecimal(usage.completionTokens)
            out.writeStaticString(",\\\"total\\\":")
            out.writeDecimal(usage.totalTokens)
            out.writeStaticString("}\"}}")
        }
        if priced {
            out.attributeKey("langfuse.observation.cost_details", "stringValue")
            out.writeStaticString("\"{\\\"input\\\":")
            out.writeDouble(inputCost)
            out.writeStaticString(",\\\"output\\\":")
            out.writeDouble(outputCost)
            out.writeStaticString(",\\\"total\\\":")
            out.writeDouble(inputCost + outputCost)
            out.writeStaticString("}\"}}")
        }
        if r.timeToFirstByteNanoseconds > 0 {
            // A JSON string (quoted), as Langfuse's SDKs send it and its ingestion parses it.
            out.attributeKey("langfuse.observation.completion_start_time", "stringValue")
            out.writeStaticString("\"\\\"")
            out.writeISO8601(unixNanos: start &+ r.timeToFirstByteNanoseconds)
            out.writeStaticString("\\\"\"}}")
        }
        if let failure = r.failure {
            out.staticStringAttribute("langfuse.observation.level", "ERROR")
            out.stringAttribute("langfuse.observation.status_message", failure.description)
        } else if r.status >= 400 {
            out.staticStringAttribute("langfuse.observation.level", "ERROR")
            out.attributeKey("langfuse.observation.status_message", "stringValue")
            out.writeStaticString("\"answered ")
            out.writeDecimal(r.status)
            out.writeStaticString("\"}}")
        }
        scratch.clear()
        writeMetadata(to: &scratch)
        let metadata = Self.escapedValue(&out, "langfuse.observation.metadata") { $0.writeJSONString(of: scratch, 0..<scratch.readableBytes) }
        Self.repeatedValue(&out, "langfuse.trace.metadata", metadata)
    }

    /// The metadata object (call id, model group and deployment, status, timings, key alias).
    private func writeMetadata(to m: inout ByteBuffer) {
        let r = record
        m.writeStaticString("{\"call_id\":")
        m.writeJSONString(r.callID)
        m.writeStaticString(",\"model_group\":")
        m.writeJSONStringOrNull(r.modelGroup)
        if let deployment {
            m.writeImmutableBuffer(deployment.metadata)
        } else {
            m.writeStaticString(",\"model_id\":null,\"api_base\":null")
        }
        m.writeStaticString(",\"status_code\":")
        m.writeDecimal(r.status)
        m.writeStaticString(r.stream ? ",\"stream\":true,\"attempts\":" : ",\"stream\":false,\"attempts\":")
        m.writeDecimal(r.attemptCount)
        m.writeStaticString(",\"latency_ms\":")
        m.writeFiniteDouble(Double(r.totalNanoseconds) / 1e6)
        m.writeStaticString(",\"overhead_ms\":")
        m.writeFiniteDouble(Double(r.overheadNanoseconds) / 1e6)
        if r.caller == .masterKey { m.writeStaticString(",\"user_api_key_alias\":\"master_key\"") }
        m.writeInteger(UInt8(ascii: "}"))
    }

    /// A string attribute whose value `writeValue` writes (quoted); answers where the quoted
    /// value lies in `out`, for ``repeatedValue(_:_:_:)``.
    private static func escapedValue(_ out: inout ByteBuffer, _ key: StaticString, _ writeValue: (inout ByteBuffer) -> Void) -> Range<Int> {
        out.attributeKey(key, "stringValue")
        let at = out.writerIndex
        writeValue(&out)
        let value = at..<out.writerIndex
        out.writeStaticString("}}")
        return value
    }

    /// A string attribute with the value already written at `value`, copied.
    private static func repeatedValue(_ out: inout ByteBuffer, _ key: StaticString, _ value: Range<Int>) {
        out.attributeKey(key, "stringValue")
        out.writeAgain(from: value.lowerBound, length: value.count)
        out.writeStaticString("}}")
    }

    static func inputKey(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .embeddings: return "input"
        case .completions: return "prompt"
        case .chatCompletions: return "messages"
        }
    }

    /// `"litellm-{call type}"`.
    static func quotedTraceName(_ route: CallRecord.Route) -> StaticString {
        switch route {
        case .chatCompletions: return "\"litellm-acompletion\""
        case .completions: return "\"litellm-atext_completion\""
        case .embeddings: return "\"litellm-aembedding\""
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
        out.writeJSONStringOrNull(finish)
        out.writeStaticString("}]")
        return String(buffer: out)
    }

    /// The request's scalar members other than the model and the input (temperature,
    /// max_tokens, ...), as a JSON object into `out`; `false` when there are none.
    static func writeModelParameters(_ scan: JSONObjectScan, _ body: ByteBuffer, to out: inout ByteBuffer) -> Bool {
        var any = false
        body.withUnsafeReadableBytes { bytes in
            for (i, m) in scan.members.enumerated() {
                guard m.valueLead != UInt8(ascii: "{"), m.valueLead != UInt8(ascii: "["), !skipped(m, bytes) else { continue }
                out.writeInteger(UInt8(ascii: any ? "," : "{"))
                any = true
                if m.keyEscaped {
                    out.writeJSONString(scan.key(at: i, in: body))
                } else {
                    out.writeInteger(UInt8(ascii: "\""))
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd]))
                    out.writeInteger(UInt8(ascii: "\""))
                }
                out.writeInteger(UInt8(ascii: ":"))
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[m.valueStart..<m.valueEnd]))
            }
        }
        if any { out.writeInteger(UInt8(ascii: "}")) }
        return any
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

extension ByteBuffer {
    /// `v` as Swift prints it, or `0` when not finite.
    mutating func writeFiniteDouble(_ v: Double) {
        if v.isFinite { writeDouble(v) } else { writeStaticString("0") }
    }
}
