import NIOCore
import OpenAIWire

/// Turning OpenAI messages into Anthropic turns and content blocks.
extension AnthropicMessagesRequest {
    // MARK: Messages

    /// `system` text blocks and the alternating `user` / `assistant` turns.
    static func translateMessages(_ params: Parameters, endpoint: Endpoint) throws(OpenAIError) -> ([JSONValue], [JSONValue]) {
        if endpoint == .completions {
            let prompt: String
            switch params["prompt"] {
            case .string(let s)?: prompt = s
            case .array(let items)? where items.count == 1 && items[0].stringValue != nil: prompt = items[0].stringValue!
            default: throw .badRequest("'prompt' must be a string (or a list of one string) for anthropic models.", param: "prompt")
            }
            return ([], [.object([JSONMember("role", .string("user")), JSONMember("content", .array([textBlock(prompt)]))])])
        }
        guard let list = params["messages"]?.arrayValue else {
            throw .badRequest("'messages' must be a list of messages.", param: "messages")
        }
        var system: [JSONValue] = []
        var turns: [(role: String, content: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].content += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        for (n, message) in list.enumerated() {
            guard let role = message["role"]?.stringValue else {
                throw .badRequest("messages[\(n)] needs a 'role'.", param: "messages")
            }
            switch role {
            case "system", "developer":
                system += try systemBlocks(message, n)
            case "user":
                append("user", try userBlocks(message, n))
            case "tool", "function":
                append("user", [try toolResult(message, n)])
            case "assistant":
                append("assistant", try assistantBlocks(message, n))
            default:
                throw .badRequest("messages[\(n)] has role '\(role)'; anthropic models take system, user, assistant and tool messages.", param: "messages")
            }
        }
        guard !turns.isEmpty else {
            throw .badRequest("anthropic models need at least one user or assistant message besides the system prompt.", param: "messages")
        }
        // Anthropic refuses trailing whitespace in a final assistant turn (a prefill).
        if turns[turns.count - 1].role == "assistant" {
            turns[turns.count - 1].content = turns[turns.count - 1].content.map { block in
                guard block["type"]?.stringValue == "text", let text = block["text"]?.stringValue else { return block }
                return replacing(block, "text", with: .string(String(text.reversed().drop(while: { $0.isWhitespace }).reversed())))
            }
        }
        let messages: [JSONValue] = turns.map { .object([JSONMember("role", .string($0.role)), JSONMember("content", .array($0.content))]) }
        return (system, messages)
    }

    static func textBlock(_ text: String, cacheControl: JSONValue? = nil) -> JSONValue {
        var members = [JSONMember("type", .string("text")), JSONMember("text", .string(text))]
        if let cacheControl { members.append(JSONMember("cache_control", cacheControl)) }
        return .object(members)
    }

    static func systemBlocks(_ message: JSONValue, _ n: Int) throws(OpenAIError) -> [JSONValue] {
        switch message["content"] {
        case .string(let text)?:
            return text.isEmpty ? [] : [textBlock(text, cacheControl: message["cache_control"])]
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for part in parts {
                guard let text = part["text"]?.stringValue else {
                    throw .badRequest("messages[\(n)]: a system message's content parts must be text.", param: "messages")
                }
                if !text.isEmpty { blocks.append(textBlock(text, cacheControl: part["cache_control"])) }
            }
            return blocks
        default:
            return []
        }
    }

    static func userBlocks(_ message: JSONValue, _ n: Int) throws(OpenAIError) -> [JSONValue] {
        switch message["content"] {
        case .string(let text)?:
            return [textBlock(text, cacheControl: message["cache_control"])]
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for part in parts { blocks.append(try contentBlock(part, n)) }
            return blocks
        case .null?, nil:
            return []
        default:
            throw .badRequest("messages[\(n)].content must be a string or a list of content parts.", param: "messages")
        }
    }

    /// One OpenAI content part → one Anthropic content block. Parts already in Anthropic's
    /// shape (`image` with a `source`, `document`, ...) pass through.
    static func contentBlock(_ part: JSONValue, _ n: Int) throws(OpenAIError) -> JSONValue {
        let cacheControl = part["cache_control"]
        switch part["type"]?.stringValue {
        case "text":
            return textBlock(part["text"]?.stringValue ?? "", cacheControl: cacheControl)
        case "image_url":
            let url = part["image_url"]?.stringValue ?? part["image_url"]?["url"]?.stringValue
            guard let url else { throw .badRequest("messages[\(n)]: an image_url part needs image_url.url.", param: "messages") }
            return try mediaBlock(url: url, cacheControl: cacheControl, n)
        case "file":
            guard let data = part["file"]?["file_data"]?.stringValue else {
                throw .badRequest("messages[\(n)]: anthropic models take file parts as file.file_data (a base64 data URL); file_id is not supported.", param: "messages")
            }
            return try mediaBlock(url: data, cacheControl: cacheControl, n)
        default:
            return part
        }
    }

    /// An `image` block (or a `document` block for a PDF) from a data URL or an http(s) URL.
    static func mediaBlock(url: String, cacheControl: JSONValue?, _ n: Int) throws(OpenAIError) -> JSONValue {
        var members: [JSONMember]
        if url.hasPrefix("data:") {
            guard let comma = url.firstIndex(of: ",") else {
                throw .badRequest("messages[\(n)]: the data URL has no ',' before its data.", param: "messages")
            }
            let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
            let fields = header.split(separator: ";")
            guard fields.last == "base64", let mediaType = fields.first, fields.count >= 2 else {
                throw .badRequest("messages[\(n)]: anthropic models take images as base64 data URLs (data:image/png;base64,...) or http(s) URLs.", param: "messages")
            }
            let source: JSONValue = .object([
                JSONMember("type", .string("base64")), JSONMember("media_type", .string(String(mediaType))),
                JSONMember("data", .string(String(url[url.index(after: comma)...]))),
            ])
            members = [JSONMember("type", .string(mediaType == "application/pdf" ? "document" : "image")), JSONMember("source", source)]
        } else if url.lowercased().hasPrefix("https://") || url.lowercased().hasPrefix("http://") {
            members = [
                JSONMember("type", .string(url.lowercased().hasSuffix(".pdf") ? "document" : "image")),
                JSONMember("source", .object([JSONMember("type", .string("url")), JSONMember("url", .string(url))])),
            ]
        } else {
            throw .badRequest("messages[\(n)]: an image URL must be a base64 data URL or an http(s) URL.", param: "messages")
        }
        if let cacheControl { members.append(JSONMember("cache_control", cacheControl)) }
        return .object(members)
    }

    /// A `tool` (or legacy `function`) message → a `tool_result` block.
    static func toolResult(_ message: JSONValue, _ n: Int) throws(OpenAIError) -> JSONValue {
        guard let id = message["tool_call_id"]?.stringValue else {
            throw .badRequest("messages[\(n)]: a \(message["role"]?.stringValue ?? "tool") message needs the 'tool_call_id' of the assistant's tool call.", param: "messages")
        }
        let content: JSONValue
        switch message["content"] {
        case .string(let text)?:
            content = .string(text)
        case .array(let parts)?:
            var blocks: [JSONValue] = []
            for part in parts { blocks.append(try contentBlock(part, n)) }
            content = .array(blocks)
        default:
            content = .string("")
        }
        var members = [JSONMember("type", .string("tool_result")), JSONMember("tool_use_id", .string(id)), JSONMember("content", content)]
        if let cacheControl = message["cache_control"] { members.append(JSONMember("cache_control", cacheControl)) }
        return .object(members)
    }

    static func assistantBlocks(_ message: JSONValue, _ n: Int) throws(OpenAIError) -> [JSONValue] {
        var blocks: [JSONValue] = []
        // Thinking blocks go first, or Anthropic refuses the turn.
        if let thinking = message["thinking_blocks"]?.arrayValue { blocks += thinking }
        switch message["content"] {
        case .string(let text)? where !text.isEmpty:
            blocks.append(textBlock(text, cacheControl: message["cache_control"]))
        case .array(let parts)?:
            for part in parts {
                switch part["type"]?.stringValue {
                case "text":
                    if let text = part["text"]?.stringValue, !text.isEmpty { blocks.append(textBlock(text, cacheControl: part["cache_control"])) }
                case "thinking":
                    if let text = part["thinking"]?.stringValue, !text.isEmpty { blocks.append(part) }
                case "redacted_thinking":
                    blocks.append(part)
                default:
                    break  // empty or non-text parts carry nothing Anthropic takes in an assistant turn
                }
            }
        default:
            break
        }
        if let calls = message["tool_calls"]?.arrayValue {
            for (k, call) in calls.enumerated() where (call["type"]?.stringValue ?? "function") == "function" {
                guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue else {
                    throw .badRequest("messages[\(n)].tool_calls[\(k)] needs an id and function.name.", param: "messages")
                }
                blocks.append(.object([
                    JSONMember("type", .string("tool_use")), JSONMember("id", .string(id)), JSONMember("name", .string(name)),
                    JSONMember("input", try toolInput(call["function"]?["arguments"], "messages[\(n)].tool_calls[\(k)]")),
                ]))
            }
        }
        if let call = message["function_call"], let name = call["name"]?.stringValue {
            blocks.append(.object([
                JSONMember("type", .string("tool_use")), JSONMember("id", .string("call_\(name)")), JSONMember("name", .string(name)),
                JSONMember("input", try toolInput(call["arguments"], "messages[\(n)].function_call")),
            ]))
        }
        return blocks
    }

    /// A tool call's `arguments` (a JSON string) as the `input` object Anthropic wants.
    static func toolInput(_ arguments: JSONValue?, _ path: String) throws(OpenAIError) -> JSONValue {
        switch arguments {
        case .string(let text)?:
            if text.trimmingCharacters(in: .whitespaces).isEmpty { return .object([]) }
            guard let value = try? JSONValue.parse(text), case .object = value else {
                throw .badRequest("\(path).function.arguments must be a JSON object encoded as a string.", param: "messages")
            }
            return value
        case .object?:
            return arguments!
        default:
            return .object([])
        }
    }
}
