import NIOCore
import OpenAIWire

/// OpenAI chat parameters → a Bedrock Converse request body:
///
/// - `system` (and `developer`) messages → `system: [{"text"}]`;
/// - `user`/`assistant` messages → `messages` with content blocks (`text`, `image` from
///   `data:` URLs, assistant `tool_calls` → `toolUse`), `tool` messages → a user message of
///   `toolResult` blocks; consecutive messages of one role are merged (Converse alternates);
/// - `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`, `stop` → `inferenceConfig`;
/// - `tools` and `tool_choice` → `toolConfig` (`"none"` sends no tools);
/// - `top_k` → `additionalModelRequestFields`.
///
/// The deployment's request defaults apply where the request does not set a parameter.
public enum BedrockConverseRequest {
    public static func body(_ call: ProviderCall, defaults: [JSONMember]) throws(OpenAIError) -> ByteBuffer {
        func param(_ key: StaticString) -> JSONValue? {
            if let v = call.scan.value(key, in: call.body), !v.isNull { return v }
            return defaults.first(where: { $0.key == key.description })?.value
        }
        guard let messages = param("messages")?.arrayValue else {
            throw .badRequest("'messages' must be a list of messages", param: "messages")
        }
        var system: [JSONValue] = []
        var turns: [(role: String, blocks: [JSONValue])] = []
        func add(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        for (n, message) in messages.enumerated() {
            let role = message["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                system += try textBlocks(message["content"], at: n)
            case "user":
                add("user", try contentBlocks(message["content"], at: n))
            case "assistant":
                var blocks = try textBlocks(message["content"], at: n)
                for toolCall in message["tool_calls"]?.arrayValue ?? [] {
                    let arguments = toolCall["function"]?["arguments"]?.stringValue ?? "{}"
                    let input = (try? JSONValue.parse(arguments.isEmpty ? "{}" : arguments)) ?? .object([])
                    blocks.append(.object([JSONMember("toolUse", .object([
                        JSONMember("toolUseId", .string(toolCall["id"]?.stringValue ?? "")),
                        JSONMember("name", .string(toolCall["function"]?["name"]?.stringValue ?? "")),
                        JSONMember("input", input),
                    ]))]))
                }
                add("assistant", blocks)
            case "tool", "function":
                let text = try textBlocks(message["content"], at: n)
                add("user", [.object([JSONMember("toolResult", .object([
                    JSONMember("toolUseId", .string(message["tool_call_id"]?.stringValue ?? message["name"]?.stringValue ?? "")),
                    JSONMember("content", .array(text.isEmpty ? [.object([JSONMember("text", .string(""))])] : text)),
                ]))])])
            default:
                throw .badRequest("messages[\(n)].role '\(role)' is not one of system, developer, user, assistant, tool", param: "messages")
            }
        }
        guard !turns.isEmpty else { throw .badRequest("Bedrock needs at least one user message", param: "messages") }

        var body: [JSONMember] = [JSONMember("messages", .array(turns.map {
            .object([JSONMember("role", .string($0.role)), JSONMember("content", .array($0.blocks))])
        }))]
        if !system.isEmpty { body.append(JSONMember("system", .array(system))) }

        var inference: [JSONMember] = []
        if let max = (param("max_completion_tokens") ?? param("max_tokens"))?.intValue { inference.append(JSONMember("maxTokens", .int(max))) }
        if let t = param("temperature"), t.doubleValue != nil { inference.append(JSONMember("temperature", t)) }
        if let p = param("top_p"), p.doubleValue != nil { inference.append(JSONMember("topP", p)) }
        switch param("stop") {
        case .string(let s)?: inference.append(JSONMember("stopSequences", .array([.string(s)])))
        case .array(let a)? where !a.isEmpty: inference.append(JSONMember("stopSequences", .array(a)))
        default: break
        }
        if !inference.isEmpty { body.append(JSONMember("inferenceConfig", .object(inference))) }

        if let tools = param("tools")?.arrayValue, !tools.isEmpty, param("tool_choice")?.stringValue != "none" {
            var config: [JSONMember] = [JSONMember("tools", .array(tools.compactMap { tool -> JSONValue? in
                guard let f = tool["function"], let name = f["name"]?.stringValue else { return nil }
                var spec: [JSONMember] = [JSONMember("name", .string(name))]
                if let d = f["description"]?.stringValue, !d.isEmpty { spec.append(JSONMember("description", .string(d))) }
                let schema = f["parameters"] ?? .object([JSONMember("type", .string("object")), JSONMember("properties", .object([]))])
                spec.append(JSONMember("inputSchema", .object([JSONMember("json", schema)])))
                return .object([JSONMember("toolSpec", .object(spec))])
            }))]
            switch param("tool_choice") {
            case .string("auto")?: config.append(JSONMember("toolChoice", .object([JSONMember("auto", .object([]))])))
            case .string("required")?: config.append(JSONMember("toolChoice", .object([JSONMember("any", .object([]))])))
            case .object?:
                if let name = param("tool_choice")?["function"]?["name"]?.stringValue {
                    config.append(JSONMember("toolChoice", .object([JSONMember("tool", .object([JSONMember("name", .string(name))]))])))
                }
            default: break
            }
            body.append(JSONMember("toolConfig", .object(config)))
        }
        if let k = param("top_k"), k.intValue != nil {
            body.append(JSONMember("additionalModelRequestFields", .object([JSONMember("top_k", k)])))
        }
        var out = ByteBuffer()
        out.writeJSON(.object(body))
        return out
    }

    /// Text parts only (system prompts, assistant and tool content): a string or `[{"type":"text"}]`.
    static func textBlocks(_ content: JSONValue?, at n: Int) throws(OpenAIError) -> [JSONValue] {
        switch content {
        case .string(let s)?: return s.isEmpty ? [] : [.object([JSONMember("text", .string(s))])]
        case .array(let parts)?:
            return parts.compactMap { part -> JSONValue? in
                guard let text = part["text"]?.stringValue, !text.isEmpty else { return nil }
                return .object([JSONMember("text", .string(text))])
            }
        case nil, .null?: return []
        default: throw .badRequest("messages[\(n)].content must be a string or a list of content parts", param: "messages")
        }
    }

    /// User content: text parts and images (`data:image/png;base64,...` URLs).
    static func contentBlocks(_ content: JSONValue?, at n: Int) throws(OpenAIError) -> [JSONValue] {
        guard case .array(let parts)? = content else { return try textBlocks(content, at: n) }
        var blocks: [JSONValue] = []
        for part in parts {
            switch part["type"]?.stringValue {
            case "text":
                if let text = part["text"]?.stringValue, !text.isEmpty { blocks.append(.object([JSONMember("text", .string(text))])) }
            case "image_url":
                let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                guard url.hasPrefix("data:image/"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
                    throw .badRequest("messages[\(n)]: Bedrock takes images as data:image/...;base64 URLs only", param: "messages")
                }
                var format = String(url[url.index(url.startIndex, offsetBy: 11)..<comma].dropLast(7))
                if format == "jpg" { format = "jpeg" }
                blocks.append(.object([JSONMember("image", .object([
                    JSONMember("format", .string(format)),
                    JSONMember("source", .object([JSONMember("bytes", .string(String(url[url.index(after: comma)...])))])),
                ]))]))
            default:
                throw .badRequest("messages[\(n)]: content part type '\(part["type"]?.stringValue ?? "")' is not supported for Bedrock", param: "messages")
            }
        }
        return blocks
    }
}
