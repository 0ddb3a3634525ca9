import NIOCore
import OpenAIWire
import SwitchboardConfig

/// Builds an upstream JSON body from the client's body without decoding it: members are
/// copied as bytes, `model` is replaced, gateway-only members are left out, deployment
/// defaults are added where the client did not set them.
public enum RequestBodyRewriter {
    /// Body members that steer the gateway and are never sent upstream.
    public static let gatewayOnlyKeys: [StaticString] = [
        "model", "metadata", "num_retries", "fallbacks", "context_window_fallbacks", "content_policy_fallbacks",
        "timeout", "request_timeout", "stream_timeout", "mock_response", "mock_testing_fallbacks",
        "caching", "cache", "ttl", "user_config", "api_key", "api_base", "base_url", "api_version",
        "litellm_metadata", "proxy_server_request", "tags", "guardrails", "max_retries",
        "litellm_logging_obj", "no-log", "disable_fallbacks", "litellm_call_id", "organization", "extra_headers",
    ]

    /// OpenAI's chat completion parameters (what `drop_params` keeps for OpenAI-compatible servers).
    public static let openAIChatParams: [StaticString] = [
        "messages", "stream", "stream_options", "temperature", "top_p", "n", "stop", "max_tokens",
        "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "user", "seed",
        "tools", "tool_choice", "parallel_tool_calls", "response_format", "logprobs", "top_logprobs",
        "functions", "function_call", "reasoning_effort", "modalities", "audio", "prediction",
        "service_tier", "store", "web_search_options",
    ]

    public static let openAICompletionParams: [StaticString] = [
        "prompt", "stream", "stream_options", "temperature", "top_p", "n", "stop", "max_tokens",
        "presence_penalty", "frequency_penalty", "logit_bias", "user", "seed", "best_of", "echo",
        "logprobs", "suffix",
    ]

    public static let openAIEmbeddingParams: [StaticString] = ["input", "user", "dimensions", "encoding_format"]

    /// The supported parameter list for `endpoint`.
    public static func openAIParams(for endpoint: Endpoint) -> [StaticString] {
        switch endpoint {
        case .chatCompletions: return openAIChatParams
        case .completions: return openAICompletionParams
        case .embeddings: return openAIEmbeddingParams
        }
    }

    /// Writes the upstream body into `out`.
    /// - Parameters:
    ///   - keep: when set (`drop_params`), only members named here are sent.
    ///   - askUsage: make sure `stream_options.include_usage` is true (the gateway counts the
    ///     stream's tokens; the translator hides the extra chunk from a client that did not ask).
    public static func rewrite(
        _ call: ProviderCall, model: String, defaults: [JSONMember], keep: [StaticString]?, askUsage: Bool = false,
        into out: inout ByteBuffer
    ) {
        var askUsage = askUsage
        let body = call.body
        let scan = call.scan
        out.reserveCapacity(body.readableBytes + 64)
        out.writeStaticString(#"{"model":"#)
        out.writeJSONString(model)
        body.withUnsafeReadableBytes { bytes in
            for m in scan.members {
                if matchesAny(m, gatewayOnlyKeys, bytes) { continue }
                if let keep, !matchesAny(m, keep, bytes) { continue }
                out.writeInteger(UInt8(ascii: ","))
                out.writeInteger(UInt8(ascii: "\""))
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd]))
                out.writeStaticString("\":")
                if askUsage, m.valueLead == UInt8(ascii: "{"), matchesAny(m, ["stream_options"], bytes) {
                    // The client's options, with include_usage added last (the last key wins).
                    var end = m.valueEnd - 1
                    while end > m.valueStart, bytes[end] != UInt8(ascii: "}") { end -= 1 }
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[m.valueStart..<end]))
                    let empty = bytes[(m.valueStart + 1)..<end].allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
                    out.writeStaticString(empty ? #""include_usage":true}"# : #","include_usage":true}"#)
                    askUsage = false
                    continue
                }
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[m.valueStart..<m.valueEnd]))
            }
        }
        if askUsage { out.writeStaticString(#","stream_options":{"include_usage":true}"#) }
        for d in defaults where scan.members.indices.allSatisfy({ !scan.key(at: $0, equals: d.key, in: body) }) {
            if let keep, !keep.contains(where: { $0.description == d.key }) { continue }
            out.writeInteger(UInt8(ascii: ","))
            out.writeJSONString(d.key)
            out.writeInteger(UInt8(ascii: ":"))
            out.writeJSON(d.value)
        }
        out.writeInteger(UInt8(ascii: "}"))
    }

    @inline(__always)
    static func matchesAny(_ m: JSONMemberSpan, _ keys: [StaticString], _ bytes: UnsafeRawBufferPointer) -> Bool {
        for k in keys where JSONObjectScan.keyEquals(m, UnsafeRawBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount), bytes) {
            return true
        }
        return false
    }
}
