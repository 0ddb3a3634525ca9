import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// Azure OpenAI (`azure/<deployment>`): OpenAI's API under
/// `{api_base}/openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version=…`.
///
/// - `api_base`: `litellm_params.api_base`, else `AZURE_API_BASE`. A base that already ends in
///   `/openai` is not doubled.
/// - `api-version`: `litellm_params.api_version`, else `AZURE_API_VERSION`, else
///   ``defaultAPIVersion`` (LiteLLM's `AZURE_DEFAULT_API_VERSION`).
/// - Credentials, first found: `litellm_params.api_key` (`api-key` header),
///   `litellm_params.azure_ad_token` (`Authorization: Bearer`), `AZURE_API_KEY` (then
///   `AZURE_OPENAI_API_KEY`), `AZURE_AD_TOKEN`. A token of the form `oidc/…` is not resolved.
///
/// Answers are OpenAI's: relayed by ``AzureResponseTranslator`` (the OpenAI translator plus
/// Azure's content-filter errors). The model in answers is the one Azure names.
public struct AzureOpenAIProvider: Provider {
    /// LiteLLM's `AZURE_DEFAULT_API_VERSION`.
    public static let defaultAPIVersion = "2025-02-01-preview"
    /// The first API version that accepts `stream_options` (older ones refuse the member), so
    /// the gateway asks for the usage chunk only from this one on.
    static let firstVersionWithStreamOptions = "2024-09-01"

    let environmentKey: (value: String, variable: String)?
    let environmentToken: String?
    let environmentBase: String?
    let environmentVersion: String?

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        environmentKey = value("AZURE_API_KEY").map { (value: $0, variable: "AZURE_API_KEY") } ?? value("AZURE_OPENAI_API_KEY").map { (value: $0, variable: "AZURE_OPENAI_API_KEY") }
        environmentToken = value("AZURE_AD_TOKEN")
        environmentBase = value("AZURE_API_BASE")
        environmentVersion = value("AZURE_API_VERSION")
    }

    public var name: String { "azure" }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let p = deployment.params
        let label = "Deployment '\(deployment.modelName)' (\(p.model))"
        guard let base = p.apiBase ?? environmentBase else {
            throw OpenAIError.badRequest("\(label) needs litellm_params.api_base (or AZURE_API_BASE) for Azure OpenAI, e.g. https://<resource>.openai.azure.com.")
        }
        if p.apiBase == nil, !HeaderValidation.isValidValue(base) {
            throw OpenAICompatibleProvider.unusableVariable("AZURE_API_BASE", deployment)
        }
        guard let url = UpstreamURL(base) else {
            throw OpenAIError.badRequest("\(label) has an api_base that is not an http(s) URL; fix litellm_params.api_base (or AZURE_API_BASE).")
        }
        guard !model.isEmpty else {
            throw OpenAIError.badRequest("\(label) names no Azure deployment: write model: azure/<deployment name>.")
        }
        let version = apiVersion(deployment)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        if let key = p.apiKey, !key.isEmpty {
            headers.add(name: "api-key", value: key)
        } else if let token = p.azureAdToken, !token.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(token)")
        } else if p.apiKey == nil, case let (key, variable)? = environmentKey {
            guard HeaderValidation.isValidValue(key) else { throw OpenAICompatibleProvider.unusableVariable(variable, deployment) }
            headers.add(name: "api-key", value: key)
        } else if p.apiKey == nil, let token = environmentToken {
            guard HeaderValidation.isValidValue(token) else { throw OpenAICompatibleProvider.unusableVariable("AZURE_AD_TOKEN", deployment) }
            headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        var warnings: [String] = []
        PlanHeaders.addExtraHeaders(p, to: &headers, warnings: &warnings)
        var path = url.path
        if path.hasSuffix("/openai") { path.removeLast("/openai".count) }
        // The plan's path and query are the deployment's: calls only append the operation.
        var route = url
        route.path = path + "/openai/deployments/" + PercentEncoding.encodeComponent(model)
        route.query = "api-version=" + PercentEncoding.encodeComponent(version)
        let ownQuery = url.query.split(separator: "&").filter { !$0.hasPrefix("api-version=") }
        if !ownQuery.isEmpty { route.query += "&" + ownQuery.joined(separator: "&") }
        let shown = PlanHeaders.shownBase(url.target, path: path)
        return DeploymentPlan(
            provider: self, deployment: deployment, upstreamModel: model, url: route, headers: headers, apiBase: shown,
            warnings: warnings)
    }

    /// The API version a deployment calls.
    func apiVersion(_ deployment: Deployment) -> String {
        deployment.params.apiVersion ?? environmentVersion ?? Self.defaultAPIVersion
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        let askUsage = apiVersion(plan.deployment) >= Self.firstVersionWithStreamOptions
        var body = ByteBufferAllocator().buffer(capacity: call.body.readableBytes + 64)  // one allocation, sized for the rewrite
        RequestBodyRewriter.rewrite(
            call, model: plan.upstreamModel, defaults: plan.deployment.params.requestDefaults,
            keep: call.dropParams ? RequestBodyRewriter.openAIParams(for: call.endpoint) : nil,
            askUsage: askUsage && call.stream && !call.clientWantsUsage, into: &body)
        let uri = plan.basePath + call.endpoint.pathSuffix + "?" + plan.baseQuery
        return UpstreamRequest(target: plan.target, uri: uri, headers: plan.headers, body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        AzureResponseTranslator(hideUsageChunk: call.stream && !call.clientWantsUsage)
    }
}
