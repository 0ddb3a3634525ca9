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
