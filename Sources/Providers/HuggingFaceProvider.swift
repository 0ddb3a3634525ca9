import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// Hugging Face (`huggingface/<org>/<model>`, or `huggingface/<inference provider>/<org>/<model>`).
///
/// Where a call goes:
/// - **Dedicated endpoint or TGI server** (`api_base` set):
///   - chat, when the deployment has a custom prompt template (`roles`, `initial_prompt_value`,
///     …): the model is a raw-text model, so the prompt is built with the template
///     (``PromptTemplateRenderer``) and sent to TGI's `POST {api_base}/generate`, or
///     `/generate_stream` (SSE) for streams;
///   - chat without a template: TGI's OpenAI-compatible Messages API,
///     `POST {api_base}/v1/chat/completions` (an api_base ending in `/v1` is not doubled);
///   - text completions: `/generate` or `/generate_stream` with the prompt as given;
///   - embeddings: `POST {api_base}` (the endpoint's root, which serves feature extraction on
///     Inference Endpoints and TEI) with `{"inputs": [...]}`.
/// - **Hosted** (no `api_base`): Hugging Face's Inference Providers router, which replaced
///   `api-inference.huggingface.co`: chat at `https://router.huggingface.co/v1/chat/completions`
///   (OpenAI-compatible; `huggingface/together/org/model` is sent as `org/model:together`),
///   embeddings at `https://router.huggingface.co/hf-inference/models/{model}/pipeline/feature-extraction`.
///   Text completions need an `api_base`.
///
/// Auth: `Authorization: Bearer` from `api_key`, else `HUGGINGFACE_API_KEY`, else `HF_TOKEN`.
public struct HuggingFaceProvider: Provider {
    public static let routerBase = "https://router.huggingface.co"

    let environmentKey: (value: String, variable: String)?

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        environmentKey = value("HUGGINGFACE_API_KEY").map { (value: $0, variable: "HUGGINGFACE_API_KEY") } ?? value("HF_TOKEN").map { (value: $0, variable: "HF_TOKEN") }
    }

    public var name: String { "huggingface" }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let p = deployment.params
        guard let url = UpstreamURL(p.apiBase ?? Self.routerBase) else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' has an api_base that is not an http(s) URL; fix litellm_params.api_base in the config.")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        if let key = p.apiKey, !key.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(key)")
        } else if let credentials = url.credentials {
            headers.add(name: "Authorization", value: credentials.authorization)
        } else if p.apiKey == nil, case let (key, variable)? = environmentKey {
            guard HeaderValidation.isValidValue(key) else { throw OpenAICompatibleProvider.unusableVariable(variable, deployment) }
            headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        var warnings: [String] = []
        PlanHeaders.addExtraHeaders(p, to: &headers, warnings: &warnings)
        let shown = PlanHeaders.shownBase(url.target, path: url.path)
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: model, url: url, headers: headers, apiBase: shown, warnings: warnings)
    }

    /// How a call is served.
    enum Route: Equatable {
        /// TGI `/generate` or `/generate_stream` with a raw prompt.
        case textGeneration
        /// An OpenAI-compatible chat completions API (TGI's Messages API or the router).
        case messages
        case featureExtraction
    }

    static func route(_ call: ProviderCall, plan: DeploymentPlan) -> Route {
        switch call.endpoint {
        case .embeddings: return .featureExtraction
        case .completions: return .textGeneration
        case .chatCompletions:
            let p = plan.deployment.params
            return p.apiBase != nil && p.promptTemplate != nil ? .textGeneration : .messages
        }
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        let p = plan.deployment.params
        let hosted = p.apiBase == nil
        var body = ByteBufferAllocator().buffer(capacity: call.body.readableBytes + 64)  // one allocation, sized for the rewrite
        var path: String
        switch Self.route(call, plan: plan) {
        case .messages:
            RequestBodyRewriter.rewrite(
                call, model: hosted ? Self.routerModel(plan.upstreamModel) : plan.upstreamModel, defaults: p.requestDefaults,
                keep: call.dropParams ? RequestBodyRewriter.openAIChatParams : nil,
                askUsage: call.stream && !call.clientWantsUsage, into: &body)
            path = plan.basePath.hasSuffix("/v1") ? plan.basePath + "/chat/completions" : plan.basePath + "/v1/chat/completions"
        case .textGeneration:
            if hosted {
                throw OpenAIError.badRequest("Deployment '\(plan.deployment.modelName)' (\(p.model)): raw text generation needs litellm_params.api_base (a TGI server or Inference Endpoint); the hosted router serves chat completions and embeddings.")
            }
            let params = ProviderParameters.merged(call, defaults: p.requestDefaults)
            let prompt: String
            if call.endpoint == .chatCompletions {
                guard let messages = params.first(where: { $0.key == "messages" })?.value.arrayValue else {
                    throw OpenAIError.badRequest("messages must be a list of messages", param: "messages")
                }
                prompt = PromptTemplateRenderer.render(messages, template: p.promptTemplate)
            } else {
                switch params.first(where: { $0.key == "prompt" })?.value {
                case .string(let s)?: prompt = s
                case .array(let items)? where items.count == 1 && items[0].stringValue != nil: prompt = items[0].stringValue!
                default: throw OpenAIError.badRequest("prompt must be one string for Hugging Face text generation", param: "prompt")
                }
            }
            body.writeJSON(.object([JSONMember("inputs", .string(prompt)), JSONMember("parameters", .object(Self.generationParameters(params)))]))
            path = plan.basePath + (call.stream ? "/generate_stream" : "/generate")
        case .featureExtraction:
            let params = ProviderParameters.merged(call, defaults: p.requestDefaults)
            guard let input = params.first(where: { $0.key == "input" })?.value,
                  input.stringValue != nil || input.arrayValue?.allSatisfy({ $0.stringValue != nil }) == true else {
                throw OpenAIError.badRequest("input must be a string or a list of strings for Hugging Face embeddings", param: "input")
            }
            var members = [JSONMember("inputs", input.arrayValue.map { JSONValue.array($0) } ?? JSONValue.array([input]))]
            for m in params where m.key == "normalize" || m.key == "truncate" || m.key == "prompt_name" { members.append(m) }
            body.writeJSON(.object(members))
            path = hosted ? "/hf-inference/models/" + PercentEncoding.encodeComponent(plan.upstreamModel, keepSlash: true) + "/pipeline/feature-extraction" : plan.basePath
            if path.isEmpty { path = "/" }
        }
        if !plan.baseQuery.isEmpty { path += "?" + plan.baseQuery }
        return UpstreamRequest(target: plan.target, uri: path, headers: plan.headers, body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        switch Self.route(call, plan: plan) {
        case .messages:
            return HuggingFaceMessagesTranslator(hideUsageChunk: call.stream && !call.clientWantsUsage)
        case .textGeneration:
            return TGIResponseTranslator(
                kind: call.endpoint == .chatCompletions ? .chat : .text, model: plan.upstreamModel, stream: call.stream,
                clientWantsUsage: call.clientWantsUsage, promptBytes: call.body.readableBytes)
        case .featureExtraction:
            return HuggingFaceEmbeddingTranslator(model: plan.upstreamModel, promptBytes: call.body.readableBytes)
        }
    }

    /// `together/org/model` → `org/model:together` (the router's provider suffix); `org/model` as is.
    static func routerModel(_ model: String) -> String {
        let parts = model.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, parts[1].contains("/") else { return model }
        return "\(parts[1]):\(parts[0])"
    }

    /// TGI's own generation parameters, passed by name.
    static let tgiParameters: Set<String> = [
        "top_k", "typical_p", "truncate", "watermark", "repetition_penalty", "frequency_penalty", "do_sample",
        "best_of", "return_full_text", "top_n_tokens", "grammar", "adapter_id", "max_new_tokens",
    ]

    /// OpenAI parameters → TGI's `parameters` (LiteLLM's mapping): `max_tokens` →
    /// `max_new_tokens`, `temperature` (0 becomes 0.01: TGI needs > 0), `top_p` (kept below 1),
    /// `stop` (a list), `seed`, `presence_penalty` → `repetition_penalty`; `details: true` for
    /// the token count, `return_full_text: false`.
    static func generationParameters(_ params: [JSONMember]) -> [JSONMember] {
        var out: [JSONMember] = []
        func put(_ key: String, _ value: JSONValue) {
            out.removeAll { $0.key == key }
            out.append(JSONMember(key, value))
        }
        for m in params where !m.value.isNull {
            switch m.key {
            case "max_tokens", "max_completion_tokens": put("max_new_tokens", .int(max(1, m.value.intValue ?? 1)))
            case "temperature": put("temperature", .double(max(0.01, m.value.doubleValue ?? 1)))
            case "top_p":
                if let v = m.value.doubleValue, v < 1 { put("top_p", .double(max(0.01, v))) }
            case "stop": put("stop", m.value.stringValue.map { .array([.string($0)]) } ?? m.value)
            case "seed": put("seed", m.value)
            case "presence_penalty": put("repetition_penalty", m.value)
            case "n": if let n = m.value.intValue, n > 1 { put("best_of", .int(n)); put("do_sample", .bool(true)) }
            default: if tgiParameters.contains(m.key) { put(m.key, m.value) }
            }
        }
        if !out.contains(where: { $0.key == "return_full_text" }) { out.append(JSONMember("return_full_text", .bool(false))) }
        out.append(JSONMember("details", .bool(true)))
        return out
    }
}
