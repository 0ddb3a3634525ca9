import NIOCore
import OpenAIWire
import SwitchboardConfig

/// OpenAI chat parameters → the body Hugging Face's TGI container on SageMaker expects:
/// `{"inputs": prompt, "parameters": {"max_new_tokens", "temperature", "top_p", "top_k",
/// "stop", "seed", "repetition_penalty"}}` (+ `"stream": true`).
public enum SageMakerTGIRequest {
    public static func body(_ call: ProviderCall, params: LitellmParams) throws(OpenAIError) -> ByteBuffer {
        func param(_ key: StaticString) -> JSONValue? {
            if let v = call.scan.value(key, in: call.body), !v.isNull { return v }
            return params.requestDefaults.first(where: { $0.key == key.description })?.value
        }
        guard let messages = param("messages")?.arrayValue else {
            throw .badRequest("'messages' must be a list of messages", param: "messages")
        }
        var parameters: [JSONMember] = []
        if let max = (param("max_completion_tokens") ?? param("max_tokens"))?.intValue { parameters.append(JSONMember("max_new_tokens", .int(max))) }
        if let t = param("temperature")?.doubleValue {
            // TGI refuses a temperature of 0 ("must be strictly positive"); LiteLLM sends 0.01.
            parameters.append(JSONMember("temperature", t <= 0 ? .double(0.01) : .double(t)))
        }
        if let p = param("top_p"), p.doubleValue != nil { parameters.append(JSONMember("top_p", p)) }
        if let k = param("top_k"), k.intValue != nil { parameters.append(JSONMember("top_k", k)) }
        if let seed = param("seed"), seed.intValue != nil { parameters.append(JSONMember("seed", seed)) }
        if let r = param("repetition_penalty"), r.doubleValue != nil { parameters.append(JSONMember("repetition_penalty", r)) }
        switch param("stop") {
        case .string(let s)?: parameters.append(JSONMember("stop", .array([.string(s)])))
        case .array(let a)? where !a.isEmpty: parameters.append(JSONMember("stop", .array(a)))
        default: break
        }
        var body = [JSONMember("inputs", .string(prompt(messages, template: params.promptTemplate))), JSONMember("parameters", .object(parameters))]
        if call.stream { body.append(JSONMember("stream", .bool(true))) }
        var out = ByteBuffer()
        out.writeJSON(.object(body))
        return out
    }

    /// LiteLLM's `custom_prompt` when the deployment has a template, else its `default_pt`
    /// (contents joined with spaces).
    public static func prompt(_ messages: [JSONValue], template: PromptTemplate?) -> String {
        let items = messages.map { (role: $0["role"]?.stringValue ?? "user", content: text($0["content"])) }
        guard let template else { return items.map { $0.content }.joined(separator: " ") }
        var prompt = template.bosToken + template.initialPromptValue
        var bosOpen = true
        for item in items {
            if (item.role == "system" || item.role == "human") && !bosOpen {
                prompt += template.bosToken
                bosOpen = true
            }
            let role = template.roles[item.role]
            prompt += (role?.preMessage ?? "") + item.content + (role?.postMessage ?? "")
            if item.role == "assistant" {
                prompt += template.eosToken
                bosOpen = false
            }
        }
        return prompt + template.finalPromptValue
    }

    static func text(_ content: JSONValue?) -> String {
        switch content {
        case .string(let s)?: return s
        case .array(let parts)?: return parts.compactMap { $0["text"]?.stringValue }.joined()
        default: return ""
        }
    }

    /// `{"text_inputs": [...]}` for embedding endpoints.
    public static func embeddingBody(_ call: ProviderCall) throws(OpenAIError) -> ByteBuffer {
        let texts: [JSONValue]
        switch call.scan.value("input", in: call.body) {
        case .string(let s)?: texts = [.string(s)]
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }): texts = items
        default: throw .badRequest("'input' must be a string or a non-empty list of strings for SageMaker embeddings", param: "input")
        }
        var out = ByteBuffer()
        out.writeJSON(.object([JSONMember("text_inputs", .array(texts))]))
        return out
    }
}
