import NIOCore
import OpenAIWire

/// Builds the body of an Anthropic Messages API request (`POST /v1/messages`) from an OpenAI
/// chat completion request (or a text completion, whose `prompt` becomes one user message),
/// the way LiteLLM's Anthropic provider does:
///
/// - `system` (and `developer`) messages are lifted out of `messages` into `system` text blocks;
/// - `user`, `tool` and `function` messages become `user` turns (tool results as `tool_result`
///   blocks), `assistant` messages `assistant` turns (`tool_calls` as `tool_use` blocks), and
///   consecutive turns of the same role are merged, as Anthropic requires alternating roles;
/// - `image_url` parts become `image` blocks (a base64 data URL as a `base64` source, a PDF data
///   URL as a `document` block, an http(s) URL as a `url` source);
/// - `max_tokens` / `max_completion_tokens` → `max_tokens`, defaulting to ``defaultMaxTokens``
///   (LiteLLM's `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS`, 4096) since Anthropic requires it; with
///   extended thinking and no limit given, the thinking budget plus that default;
/// - `stop` → `stop_sequences`, `user` → `metadata.user_id`, `tools` / `tool_choice` /
///   `parallel_tool_calls` → Anthropic's tools (`input_schema`) and `tool_choice`,
///   `response_format` (JSON) → a forced `json_tool_call` tool whose input is the answer,
///   `reasoning_effort` → `thinking`;
/// - OpenAI parameters Anthropic has no equivalent for (`seed`, `logit_bias`, `n` > 1, ...) are
///   refused with 400 unless `drop_params` is set; keys that are not OpenAI parameters (e.g.
///   `top_k`, `thinking`) are passed through as provider-specific parameters.
enum AnthropicMessagesRequest {
    /// LiteLLM's `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS`: the `max_tokens` sent when the client gives none.
    static let defaultMaxTokens = 4096

    /// The tool LiteLLM forces for `response_format` JSON mode; its input is the answer.
    static let jsonToolName = "json_tool_call"

    /// Thinking budgets for `reasoning_effort` (LiteLLM's `DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET`).
    static let thinkingBudgets: [String: Int] = ["minimal": 1024, "low": 1024, "medium": 2048, "high": 4096]

    /// OpenAI chat parameters translated below; every other OpenAI parameter is unsupported.
    static let translatedKeys: Set<String> = [
        "messages", "prompt", "stream", "stream_options", "max_tokens", "max_completion_tokens", "stop", "temperature",
        "top_p", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort", "n",
        "web_search_options",
    ]

    /// `max_uses` of the hosted web search tool per `search_context_size` (LiteLLM's
    /// `ANTHROPIC_WEB_SEARCH_TOOL_MAX_USES`).
    static let webSearchMaxUses: [String: Int] = ["low": 1, "medium": 5, "high": 10]

    /// The request's parameters: the client's members (last one wins), then the deployment's
    /// defaults for keys the client did not send. `null` values count as absent.
    struct Parameters {
        var members: [JSONMember] = []
        /// The request body's `metadata` (a gateway key, read only for `user_id`).
        var metadata: JSONValue?

        subscript(key: String) -> JSONValue? {
            members.last(where: { $0.key == key })?.value
        }

        init(_ call: ProviderCall, defaults: [JSONMember]) {
            let body = call.body
            for i in call.scan.members.indices {
                let key = call.scan.key(at: i, in: body)
                let value = call.scan.value(at: i, in: body)
                if key == "metadata" { metadata = value; continue }
                if RequestBodyRewriter.gatewayOnlyKeys.contains(where: { $0.description == key }) || value.isNull { continue }
                members.removeAll { $0.key == key }
                members.append(JSONMember(key, value))
            }
            for d in defaults where self[d.key] == nil && !d.value.isNull && d.key != "metadata" {
                members.append(d)
            }
        }
    }

    /// Whether the answer is JSON mode's forced tool call, to be turned back into text content.
    static func usesJSONMode(_ call: ProviderCall, defaults: [JSONMember]) -> Bool {
        var format = call.scan.value("response_format", in: call.body)
        if format == nil || format?.isNull == true { format = defaults.last { $0.key == "response_format" }?.value }
        return jsonModeTool(format) != nil
    }

    /// The Messages API body for `call`, sent to `model`.
    static func build(
        _ call: ProviderCall, model: String, defaults: [JSONMember], defaultMaxTokens: Int = defaultMaxTokens
    ) throws(OpenAIError) -> ByteBuffer {
        let params = Parameters(call, defaults: defaults)
        var out: [JSONMember] = [JSONMember("model", .string(model))]

        // Messages and system prompt.
        let (system, messages) = try translateMessages(params, endpoint: call.endpoint)
        out.append(JSONMember("messages", .array(messages)))
        if !system.isEmpty { out.append(JSONMember("system", .array(system))) }

        // max_tokens (required by Anthropic).
        var maxTokens: JSONValue?
        for key in ["max_tokens", "max_completion_tokens"] {
            guard let value = params[key] else { continue }
            guard value.intValue != nil else { throw .badRequest("'\(key)' must be an integer.", param: key) }
            maxTokens = value
        }
        var thinking = params["thinking"]
        if thinking == nil, let effort = params["reasoning_effort"] {
            guard let name = effort.stringValue, name == "none" || thinkingBudgets[name] != nil else {
                throw .badRequest("'reasoning_effort' must be one of none, minimal, low, medium, high.", param: "reasoning_effort")
            }
            if let budget = thinkingBudgets[name] {
                thinking = .object([JSONMember("type", .string("enabled")), JSONMember("budget_tokens", .int(budget))])
            }
        }
        if maxTokens == nil, thinking?["type"]?.stringValue == "enabled", let budget = thinking?["budget_tokens"]?.intValue {
            maxTokens = .int(budget + defaultMaxTokens)
        }
        out.append(JSONMember("max_tokens", maxTokens ?? .int(defaultMaxTokens)))

        // Everything else, in the client's order.
        var unsupported: [String] = []
        var toolChoiceDone = false
        var tools: [JSONValue] = []
        var forcedToolChoice: JSONValue?
        for member in params.members {
            let key = member.key, value = member.value
            switch key {
            case "messages", "prompt", "stream_options", "max_tokens", "max_completion_tokens", "reasoning_effort":
                continue
            case "stream":
                continue  // from `call.stream`, below
            case "n":
                if value.intValue != 1 { unsupported.append(key) }
            case "stop":
                if let stops = stopSequences(value, dropWhitespace: call.dropParams) {
                    out.append(JSONMember("stop_sequences", .array(stops.map { .string($0) })))
                }
            case "temperature", "top_p":
                out.append(member)
            case "user":
                if params.metadata?["user_id"] == nil, let user = value.stringValue, isUsableUserID(user) {
                    out.append(JSONMember("metadata", .object([JSONMember("user_id", .string(user))])))
                }
            case "tools":
                guard let list = value.arrayValue else { throw .badRequest("'tools' must be a list.", param: "tools") }
                tools = []
                for tool in list { tools.append(try translateTool(tool)) }
            case "tool_choice", "parallel_tool_calls":
                if toolChoiceDone { continue }
                toolChoiceDone = true
                if let choice = try translateToolChoice(params["tool_choice"], parallel: params["parallel_tool_calls"]?.boolValue) {
                    out.append(JSONMember("tool_choice", choice))
                }
            case "response_format":
                guard let tool = jsonModeTool(value) else { continue }
                tools.append(tool)
                if thinking?["type"]?.stringValue != "enabled" {
                    forcedToolChoice = .object([JSONMember("type", .string("tool")), JSONMember("name", .string(jsonToolName))])
                }
            case "thinking":
                out.append(member)
            case "web_search_options":
                tools.append(webSearchTool(value))
            default:
                if RequestBodyRewriter.openAIParams(for: call.endpoint).contains(where: { $0.description == key }) {
                    unsupported.append(key)
                } else {
                    out.append(member)  // a provider-specific parameter (top_k, ...)
                }
            }
        }
        if params["thinking"] == nil, let thinking { out.append(JSONMember("thinking", thinking)) }
        if let userID = params.metadata?["user_id"]?.stringValue, isUsableUserID(userID) {
            out.append(JSONMember("metadata", .object([JSONMember("user_id", .string(userID))])))
        }
        if !tools.isEmpty { out.append(JSONMember("tools", .array(tools))) }
        if let forcedToolChoice {
            out.removeAll { $0.key == "tool_choice" }
            out.append(JSONMember("tool_choice", forcedToolChoice))
        }
        if call.stream { out.append(JSONMember("stream", .bool(true))) }
        if !unsupported.isEmpty && !call.dropParams {
            let names = unsupported.map { "'\($0)'" }.joined(separator: ", ")
            throw .badRequest(
                "anthropic does not support parameters: [\(names)], for model=\(model). To drop these, set `litellm_settings: {drop_params: true}` in the config.",
                param: unsupported[0])
        }
        var body = ByteBuffer()
        body.writeJSON(.object(out))
        return body
    }

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

    // MARK: Parameters

    /// `stop` → `stop_sequences`; whitespace-only sequences (which Anthropic refuses) are left
    /// out when `drop_params` is set, as LiteLLM does.
    static func stopSequences(_ value: JSONValue, dropWhitespace: Bool) -> [String]? {
        let all: [String]
        switch value {
        case .string(let s): all = [s]
        case .array(let items): all = items.compactMap(\.stringValue)
        default: return nil
        }
        let kept = dropWhitespace ? all.filter { !$0.allSatisfy(\.isWhitespace) } : all
        return kept.isEmpty ? nil : kept
    }

    /// Anthropic refuses e-mail addresses and phone numbers as `metadata.user_id`; LiteLLM then
    /// leaves it out.
    static func isUsableUserID(_ user: String) -> Bool {
        if user.isEmpty { return false }
        let looksLikeEmail: Bool = {
            guard let at = user.firstIndex(of: "@") else { return false }
            let domain = user[user.index(after: at)...]
            return at > user.startIndex && domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !user.contains(" ")
        }()
        let phoneCharacters = user.allSatisfy { $0.isNumber || " ()-+".contains($0) }
        let looksLikePhone = phoneCharacters && user.filter(\.isNumber).count >= 7
        return !looksLikeEmail && !looksLikePhone
    }

    /// An OpenAI tool → an Anthropic tool. Tools already in Anthropic's shape (with
    /// `input_schema`) and Anthropic's hosted tools (`bash_...`, `web_search_...`) pass through.
    static func translateTool(_ tool: JSONValue) throws(OpenAIError) -> JSONValue {
        if tool["input_schema"] != nil { return tool }
        let type = tool["type"]?.stringValue ?? "function"
        guard type == "function" || type == "custom" else { return tool }
        guard let function = tool["function"], let name = function["name"]?.stringValue else {
            throw .badRequest("Each tool needs function.name.", param: "tools")
        }
        let schema = function["parameters"] ?? .object([JSONMember("type", .string("object")), JSONMember("properties", .object([]))])
        var members = [JSONMember("name", .string(name))]
        if let description = function["description"]?.stringValue { members.append(JSONMember("description", .string(description))) }
        members.append(JSONMember("input_schema", schema))
        if let cacheControl = tool["cache_control"] ?? function["cache_control"] { members.append(JSONMember("cache_control", cacheControl)) }
        return .object(members)
    }

    /// `tool_choice` and `parallel_tool_calls` → Anthropic's `tool_choice`
    /// (`auto`, `any` for required, `none`, `tool` with a name; `disable_parallel_tool_use`).
    static func translateToolChoice(_ choice: JSONValue?, parallel: Bool?) throws(OpenAIError) -> JSONValue? {
        var members: [JSONMember]?
        switch choice {
        case .string("auto")?: members = [JSONMember("type", .string("auto"))]
        case .string("required")?: members = [JSONMember("type", .string("any"))]
        case .string("none")?: members = [JSONMember("type", .string("none"))]
        case .object(let given)?:
            if let name = choice?["function"]?["name"]?.stringValue {
                members = [JSONMember("type", .string("tool")), JSONMember("name", .string(name))]
            } else if let type = choice?["type"]?.stringValue, ["auto", "any", "tool", "none"].contains(type) {
                members = given  // already Anthropic's shape
            } else {
                throw .badRequest("'tool_choice' must be auto, required, none or {\"type\": \"function\", \"function\": {\"name\": ...}}.", param: "tool_choice")
            }
        case nil: members = nil
        default:
            throw .badRequest("'tool_choice' must be auto, required, none or {\"type\": \"function\", \"function\": {\"name\": ...}}.", param: "tool_choice")
        }
        if let parallel, choice?.stringValue != "none" {
            if members == nil { members = [JSONMember("type", .string("auto"))] }
            members!.removeAll { $0.key == "disable_parallel_tool_use" }
            members!.append(JSONMember("disable_parallel_tool_use", .bool(!parallel)))
        }
        return members.map { .object($0) }
    }

    /// OpenAI's `web_search_options` → Anthropic's hosted web search tool (`user_location`,
    /// `max_uses` from `search_context_size`).
    static func webSearchTool(_ options: JSONValue) -> JSONValue {
        var members = [JSONMember("type", .string("web_search_20250305")), JSONMember("name", .string("web_search"))]
        if let approximate = options["user_location"]?["approximate"]?.objectValue {
            let fields = approximate.filter { ["city", "region", "country", "timezone"].contains($0.key) }
            members.append(JSONMember("user_location", .object([JSONMember("type", .string("approximate"))] + fields)))
        }
        if let size = options["search_context_size"]?.stringValue, let uses = webSearchMaxUses[size] {
            members.append(JSONMember("max_uses", .int(uses)))
        }
        return .object(members)
    }

    /// The forced tool for `response_format` `json_object` / `json_schema`, or `nil` for text.
    static func jsonModeTool(_ format: JSONValue?) -> JSONValue? {
        guard let format, let type = format["type"]?.stringValue, type != "text" else { return nil }
        var schema: [JSONMember] = [JSONMember("type", .string("object"))]
        if let given = (format["json_schema"]?["schema"] ?? format["response_schema"])?.objectValue {
            for m in given {
                schema.removeAll { $0.key == m.key }
                schema.append(m)
            }
        } else {
            schema += [JSONMember("additionalProperties", .bool(true)), JSONMember("properties", .object([]))]
        }
        return .object([JSONMember("name", .string(jsonToolName)), JSONMember("input_schema", .object(schema))])
    }

    static func replacing(_ value: JSONValue, _ key: String, with new: JSONValue) -> JSONValue {
        guard case .object(var members) = value, let i = members.firstIndex(where: { $0.key == key }) else { return value }
        members[i].value = new
        return .object(members)
    }
}
