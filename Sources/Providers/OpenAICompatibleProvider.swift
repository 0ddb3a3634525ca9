import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// OpenAI and every server that speaks its API: `openai/`, `hosted_vllm/`, `xinference/`,
/// `deepseek/` and bare OpenAI model names. Requests and answers are relayed as they are,
/// with the model name replaced and deployment defaults merged in.
public struct OpenAICompatibleProvider: Provider {
    /// The prefixes this provider serves, each with its defaults.
    public enum Kind: String, CaseIterable, Sendable {
        case openai
        case hostedVLLM = "hosted_vllm"
        case xinference
        case deepseek

        var defaultBase: String? {
            switch self {
            case .openai: return "https://api.openai.com/v1"
            case .deepseek: return "https://api.deepseek.com/v1"
            case .xinference: return "http://127.0.0.1:9997/v1"
            case .hostedVLLM: return nil
            }
        }

        var keyVariable: String {
            switch self {
            case .openai: return "OPENAI_API_KEY"
            case .deepseek: return "DEEPSEEK_API_KEY"
            case .xinference: return "XINFERENCE_API_KEY"
            case .hostedVLLM: return "HOSTED_VLLM_API_KEY"
            }
        }

        var baseVariables: [String] {
            switch self {
            case .openai: return ["OPENAI_API_BASE", "OPENAI_BASE_URL"]
            case .deepseek: return ["DEEPSEEK_API_BASE"]
            case .xinference: return ["XINFERENCE_API_BASE"]
            case .hostedVLLM: return ["HOSTED_VLLM_API_BASE"]
            }
        }
    }

    public let kind: Kind
    let defaultKey: String?
    let defaultBase: String?

    public init(kind: Kind, environment: [String: String]) {
        self.kind = kind
        defaultKey = environment[kind.keyVariable].flatMap { $0.isEmpty ? nil : $0 }
        defaultBase = kind.baseVariables.lazy.compactMap { environment[$0] }.first(where: { !$0.isEmpty }) ?? kind.defaultBase
    }

    public var name: String { kind.rawValue }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let p = deployment.params
        guard let base = p.apiBase ?? defaultBase else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' (\(p.model)) needs litellm_params.api_base for provider '\(name)'.")
        }
        guard let url = UpstreamURL(base) else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' has an api_base that is not an http(s) URL; fix litellm_params.api_base in the config.")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        if let key = p.apiKey ?? defaultKey, !key.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        if let org = p.organization, !org.isEmpty {
            headers.add(name: "OpenAI-Organization", value: org)
        }
        var warnings: [String] = []
        for (name, value) in p.extraHeaders {
            guard HeaderValidation.isValidName(name), HeaderValidation.isValidValue(value) else {
                warnings.append("extra_headers '\(name)' is not a valid HTTP header (names are letters, digits and !#$%&'*+-.^_`|~ without spaces); it is not sent")
                continue
            }
            headers.replaceOrAdd(name: name, value: value)
        }
        let shown = "\(url.target.tls ? "https" : "http")://\(url.target.hostHeader)\(url.path)"
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: model, url: url, headers: headers, apiBase: shown, warnings: warnings)
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        var body = ByteBuffer()
        RequestBodyRewriter.rewrite(
            call, model: plan.upstreamModel, defaults: plan.deployment.params.requestDefaults,
            keep: call.dropParams ? RequestBodyRewriter.openAIParams(for: call.endpoint) : nil,
            askUsage: call.stream && !call.clientWantsUsage, into: &body)
        var uri = plan.basePath + call.endpoint.pathSuffix
        if !plan.baseQuery.isEmpty { uri += "?" + plan.baseQuery }
        return UpstreamRequest(target: plan.target, uri: uri, headers: plan.headers, body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        OpenAIResponseTranslator(hideUsageChunk: call.stream && !call.clientWantsUsage)
    }
}
