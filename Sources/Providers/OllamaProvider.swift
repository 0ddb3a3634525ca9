import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// Ollama (`ollama/<model>` and `ollama_chat/<model>`), at `api_base`, else `OLLAMA_API_BASE`,
/// else `http://localhost:11434`.
///
/// - Chat completions (both prefixes) → `POST /api/chat`: messages translated (image parts to
///   `images`, tool calls' arguments to objects), OpenAI parameters to `options`
///   (`max_tokens` → `num_predict`, `temperature`, `top_p`, `seed`, `stop`, penalties),
///   `response_format` to `format` (`"json"`, or the JSON schema), `tools` as they are. LiteLLM
///   sends `ollama/` chat to `/api/generate` with a prompt it builds itself; Switchboard uses
///   `/api/chat` for both, so the model's own chat template applies (what LiteLLM recommends
///   `ollama_chat/` for).
/// - Text completions (`/v1/completions`) → `POST /api/generate` with the prompt as given.
/// - Embeddings → `POST /api/embed` with `input`.
/// - Ollama's own options (`num_ctx`, `top_k`, `repeat_penalty`, `mirostat`, …) in the request
///   or the deployment's `litellm_params` go into `options`; `keep_alive`, `think`, `format`
///   go as they are.
/// - `api_key` (or `OLLAMA_API_KEY`), when set, is sent as `Authorization: Bearer` (Ollama
///   behind an authenticating proxy, or ollama.com).
public struct OllamaProvider: Provider {
    public static let defaultBase = "http://localhost:11434"

    public let name: String
    let environmentBase: String?
    let environmentKey: String?

    public init(name: String, environment: [String: String]) {
        self.name = name
        environmentBase = environment["OLLAMA_API_BASE"].flatMap { $0.isEmpty ? nil : $0 }
        environmentKey = environment["OLLAMA_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let p = deployment.params
        let base = p.apiBase ?? environmentBase ?? Self.defaultBase
        if p.apiBase == nil, environmentBase != nil, !HeaderValidation.isValidValue(base) {
            throw OpenAICompatibleProvider.unusableVariable("OLLAMA_API_BASE", deployment)
        }
        guard let url = UpstreamURL(base) else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' has an api_base that is not an http(s) URL (Ollama listens on http://<host>:11434); fix litellm_params.api_base in the config.")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        if let key = p.apiKey, !key.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(key)")
        } else if let credentials = url.credentials {
            headers.add(name: "Authorization", value: credentials.authorization)
        } else if p.apiKey == nil, let key = environmentKey {
            guard HeaderValidation.isValidValue(key) else { throw OpenAICompatibleProvider.unusableVariable("OLLAMA_API_KEY", deployment) }
            headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        var warnings: [String] = []
        PlanHeaders.addExtraHeaders(p, to: &headers, warnings: &warnings)
        var route = url
        if route.path.hasSuffix("/api") { route.path.removeLast(4) }
        let shown = PlanHeaders.shownBase(url.target, path: route.path)
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: model, url: route, headers: headers, apiBase: shown, warnings: warnings)
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        let params = ProviderParameters.merged(call, defaults: plan.deployment.params.requestDefaults)
        let body: JSONValue
        let path: String
        switch call.endpoint {
        case .chatCompletions:
            body = try Self.chatBody(params, model: plan.upstreamModel, stream: call.stream)
            path = "/api/chat"
        case .completions:
            body = try Self.generateBody(params, model: plan.upstreamModel, stream: call.stream)
            path = "/api/generate"
        case .embeddings:
            body = try Self.embedBody(params, model: plan.upstreamModel)
            path = "/api/embed"
        }
        var bytes = ByteBuffer()
        bytes.writeJSON(body)
        var uri = plan.basePath + path
        if !plan.baseQuery.isEmpty { uri += "?" + plan.baseQuery }
        return UpstreamRequest(target: plan.target, uri: uri, headers: plan.headers, body: bytes)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        let mode: OllamaResponseTranslator.Mode
        switch call.endpoint {
        case .chatCompletions: mode = .chat
        case .completions: mode = .generate
        case .embeddings: mode = .embed
        }
        return OllamaResponseTranslator(mode: mode, model: plan.upstreamModel, stream: call.stream, clientWantsUsage: call.clientWantsUsage)
    }

    // MARK: Request bodies

    /// Ollama's model options (`options` members) that a request or deployment may set by name.
    static let ollamaOptions: Set<String> = [
        "num_ctx", "num_keep", "num_predict", "top_k", "min_p", "typical_p", "tfs_z", "repeat_last_n",
        "repeat_penalty", "mirostat", "mirostat_eta", "mirostat_tau", "penalize_newline", "num_batch",
        "num_gpu", "main_gpu", "num_thread", "numa", "use_mmap", "use_mlock", "low_vram", "vocab_only",
    ]

    /// Top-level members of Ollama's requests, passed as they are.
    static let ollamaTopLevel: Set<String> = ["keep_alive", "think", "format", "raw", "system", "template", "context", "suffix", "images", "truncate", "dimensions"]

    static func chatBody(_ params: [JSONMember], model: String, stream: Bool) throws(OpenAIError) -> JSONValue {
        guard let messages = params.first(where: { $0.key == "messages" })?.value.arrayValue else {
            throw OpenAIError.badRequest("messages must be a list of messages", param: "messages")
        }
        var body: [JSONMember] = [
            JSONMember("model", .string(model)),
            JSONMember("messages", .array(try convertMessages(messages))),
            JSONMember("stream", .bool(stream)),
        ]
        try addParameters(params, skipping: ["messages"], into: &body)
        return .object(body)
    }

    static func generateBody(_ params: [JSONMember], model: String, stream: Bool) throws(OpenAIError) -> JSONValue {
        let prompt: String
        switch params.first(where: { $0.key == "prompt" })?.value {
        case .string(let s)?: prompt = s
        case .array(let items)? where items.count == 1 && items[0].stringValue != nil: prompt = items[0].stringValue!
        default: throw OpenAIError.badRequest("prompt must be one string for Ollama (/api/generate takes one prompt per request)", param: "prompt")
        }
        var body: [JSONMember] = [
            JSONMember("model", .string(model)), JSONMember("prompt", .string(prompt)), JSONMember("stream", .bool(stream)),
        ]
        try addParameters(params, skipping: ["prompt"], into: &body)
        return .object(body)
    }

    static func embedBody(_ params: [JSONMember], model: String) throws(OpenAIError) -> JSONValue {
        guard let input = params.first(where: { $0.key == "input" })?.value, input.stringValue != nil || input.arrayValue?.allSatisfy({ $0.stringValue != nil }) == true else {
            throw OpenAIError.badRequest("input must be a string or a list of strings for Ollama embeddings", param: "input")
        }
        var body: [JSONMember] = [JSONMember("model", .string(model)), JSONMember("input", input.arrayValue.map { JSONValue.array($0) } ?? JSONValue.array([input]))]
        for m in params where ollamaTopLevel.contains(m.key) || m.key == "options" { body.append(m) }
        return .object(body)
    }

    /// OpenAI parameters → Ollama's `options`, `format`, `tools` and top-level members.
    static func addParameters(_ params: [JSONMember], skipping: Set<String>, into body: inout [JSONMember]) throws(OpenAIError) {
        var options: [JSONMember] = []
        var topLevel: [JSONMember] = []
        for m in params where !skipping.contains(m.key) && !ProviderParameters.gatewayOnly.contains(m.key) && !m.value.isNull {
            switch m.key {
            case "stream": continue
            case "max_tokens", "max_completion_tokens":
                options.removeAll { $0.key == "num_predict" }
                options.append(JSONMember("num_predict", m.value))
            case "temperature", "top_p", "seed", "presence_penalty", "frequency_penalty":
                options.append(m)
            case "stop":
                options.append(JSONMember("stop", m.value.stringValue.map { .array([.string($0)]) } ?? m.value))
            case "response_format":
                switch m.value["type"]?.stringValue {
                case "json_object": topLevel.append(JSONMember("format", .string("json")))
                case "json_schema":
                    if let schema = m.value["json_schema"]?["schema"] { topLevel.append(JSONMember("format", schema)) }
                default: break
                }
            case "tools":
                body.append(m)
            case "reasoning_effort":
                if !topLevel.contains(where: { $0.key == "think" }) { topLevel.append(JSONMember("think", .bool(m.value.stringValue != "none"))) }
            case "options":
                for o in m.value.objectValue ?? [] {
                    options.removeAll { $0.key == o.key }
                    options.append(o)
                }
            default:
                if ollamaTopLevel.contains(m.key) {
                    topLevel.removeAll { $0.key == m.key }
                    topLevel.append(m)
                } else if ollamaOptions.contains(m.key) {
                    options.removeAll { $0.key == m.key }
                    options.append(m)
                }
                // Anything else (OpenAI-only parameters, unknown keys) has no Ollama meaning.
            }
        }
        body.append(contentsOf: topLevel)
        if !options.isEmpty { body.append(JSONMember("options", .object(options))) }
    }

    /// OpenAI messages → Ollama's: content parts flattened (text joined, images as base64 in
    /// `images`), assistant tool calls with object arguments, tool results named.
    static func convertMessages(_ messages: [JSONValue]) throws(OpenAIError) -> [JSONValue] {
        var toolNames: [String: String] = [:]
        var out: [JSONValue] = []
        out.reserveCapacity(messages.count)
        for (n, message) in messages.enumerated() {
            guard let role = message["role"]?.stringValue else {
                throw OpenAIError.badRequest("messages[\(n)] has no role", param: "messages")
            }
            var converted: [JSONMember] = [JSONMember("role", .string(role))]
            var images: [JSONValue] = []
            switch message["content"] {
            case .string(let text)?:
                converted.append(JSONMember("content", .string(text)))
            case .array(let parts)?:
                var texts: [String] = []
                for part in parts {
                    switch part["type"]?.stringValue {
                    case "text": if let t = part["text"]?.stringValue { texts.append(t) }
                    case "image_url":
                        let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else {
                            throw OpenAIError.badRequest("messages[\(n)]: Ollama takes images as base64 data URLs (data:image/png;base64,...), not links", param: "messages")
                        }
                        images.append(.string(String(url[url.index(after: comma)...])))
                    default: continue
                    }
                }
                converted.append(JSONMember("content", .string(texts.joined(separator: "\n"))))
            default:
                converted.append(JSONMember("content", .string("")))
            }
            if !images.isEmpty { converted.append(JSONMember("images", .array(images))) }
            if let calls = message["tool_calls"]?.arrayValue, !calls.isEmpty {
                var ollamaCalls: [JSONValue] = []
                for call in calls {
                    let name = call["function"]?["name"]?.stringValue ?? ""
                    if let id = call["id"]?.stringValue { toolNames[id] = name }
                    var arguments: JSONValue = .object([])
                    if let text = call["function"]?["arguments"]?.stringValue, !text.isEmpty {
                        arguments = (try? JSONValue.parse(text)) ?? .string(text)
                    } else if let object = call["function"]?["arguments"], object.objectValue != nil {
                        arguments = object
                    }
                    ollamaCalls.append(.object([JSONMember("function", .object([JSONMember("name", .string(name)), JSONMember("arguments", arguments)]))]))
                }
                converted.append(JSONMember("tool_calls", .array(ollamaCalls)))
            }
            if role == "tool", let id = message["tool_call_id"]?.stringValue, let name = toolNames[id] {
                converted.append(JSONMember("tool_name", .string(name)))
            }
            out.append(.object(converted))
        }
        return out
    }
}
