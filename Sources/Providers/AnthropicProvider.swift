import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// Anthropic's Messages API: `anthropic/` and bare `claude-` model names.
///
/// Calls go to `POST {api_base}/v1/messages` (default `https://api.anthropic.com`; from the
/// environment `ANTHROPIC_API_BASE` or `ANTHROPIC_BASE_URL`) with `x-api-key` (`api_key`, else
/// `ANTHROPIC_API_KEY`), `anthropic-version: 2023-06-01` and `content-type: application/json`.
/// An `api_base` that already ends in `/v1/messages` is used as it is, one ending in `/v1` gets
/// `/messages`. Requests are translated by ``AnthropicMessagesRequest`` and answers by
/// ``AnthropicResponseTranslator``. Anthropic has no embeddings: `/embeddings` is refused (400).
/// `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS` overrides the `max_tokens` sent when a request gives none
/// (4096, as in LiteLLM).
public struct AnthropicProvider: Provider {
    public static let defaultBase = "https://api.anthropic.com"
    public static let apiVersion = "2023-06-01"
    static let keyVariable = "ANTHROPIC_API_KEY"
    static let baseVariables = ["ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"]
    static let maxTokensVariable = "DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS"

    let defaultKey: String?
    let defaultBase: String
    /// The variable `defaultBase` came from, when it came from the environment.
    let defaultBaseVariable: String?
    /// The `max_tokens` sent when the request and the deployment give none.
    let defaultMaxTokens: Int

    public init(environment: [String: String]) {
        defaultKey = environment[Self.keyVariable].flatMap { $0.isEmpty ? nil : $0 }
        defaultBaseVariable = Self.baseVariables.first { !(environment[$0] ?? "").isEmpty }
        defaultBase = defaultBaseVariable.flatMap { environment[$0] } ?? Self.defaultBase
        defaultMaxTokens = environment[Self.maxTokensVariable].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            ?? AnthropicMessagesRequest.defaultMaxTokens
    }

    public var name: String { "anthropic" }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let p = deployment.params
        let base = p.apiBase ?? defaultBase
        if p.apiBase == nil, let variable = defaultBaseVariable, !HeaderValidation.isValidValue(base) {
            throw OpenAICompatibleProvider.unusableVariable(variable, deployment)
        }
        guard var url = UpstreamURL(base) else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' has an api_base that is not an http(s) URL; fix litellm_params.api_base in the config.")
        }
        url.path = Self.messagesPath(base: url.path)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.target.hostHeader)
        // x-api-key: litellm_params.api_key, else ANTHROPIC_API_KEY. An empty api_key sends none.
        if let key = p.apiKey, !key.isEmpty {
            headers.add(name: "x-api-key", value: key)
        } else if p.apiKey == nil, let key = defaultKey {
            guard HeaderValidation.isValidValue(key) else { throw OpenAICompatibleProvider.unusableVariable(Self.keyVariable, deployment) }
            headers.add(name: "x-api-key", value: key)
        }
        // An api_base with user:password@ (a proxy in front of Anthropic) also gets Basic auth.
        if let credentials = url.credentials {
            headers.add(name: "Authorization", value: credentials.authorization)
        }
        headers.add(name: "anthropic-version", value: Self.apiVersion)
        headers.add(name: "content-type", value: "application/json")
        var warnings: [String] = []
        PlanHeaders.addExtraHeaders(p, to: &headers, warnings: &warnings)
        let shown = PlanHeaders.shownBase(url.target, path: url.path)
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: model, url: url, headers: headers, apiBase: shown, warnings: warnings)
    }

    /// The Messages path under an `api_base` path: `…/v1/messages` as it is, `…/v1` + `/messages`,
    /// anything else + `/v1/messages`.
    static func messagesPath(base: String) -> String {
        if base.hasSuffix("/v1/messages") { return base }
        if base.hasSuffix("/v1") { return base + "/messages" }
        return base + "/v1/messages"
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        if call.endpoint == .embeddings {
            throw OpenAIError.badRequest(
                "Anthropic has no embeddings API: model '\(plan.deployment.modelName)' (\(plan.deployment.params.model)) cannot serve /embeddings. Route embeddings to an embedding model (e.g. openai/text-embedding-3-small, bedrock/amazon.titan-embed-text-v2:0).",
                param: "model")
        }
        let body = try AnthropicMessagesRequest.build(
            call, model: plan.upstreamModel, defaults: plan.deployment.params.requestDefaults, defaultMaxTokens: defaultMaxTokens)
        var uri = plan.basePath
        if !plan.baseQuery.isEmpty { uri += "?" + plan.baseQuery }
        return UpstreamRequest(target: plan.target, uri: uri, headers: plan.headers, body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        AnthropicResponseTranslator(
            output: call.endpoint == .completions ? .text : .chat,
            includeUsage: call.stream && call.clientWantsUsage,
            jsonMode: AnthropicMessagesRequest.usesJSONMode(call, defaults: plan.deployment.params.requestDefaults),
            created: Int(time(nil)))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
