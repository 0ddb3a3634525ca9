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
    /// The variable `defaultBase` came from, when it came from the environment.
    let defaultBaseVariable: String?

    public init(kind: Kind, environment: [String: String]) {
        self.kind = kind
        defaultKey = environment[kind.keyVariable].flatMap { $0.isEmpty ? nil : $0 }
        defaultBaseVariable = kind.baseVariables.first { !(environment[$0] ?? "").isEmpty }
        defaultBase = defaultBaseVariable.flatMap { environment[$0] } ?? kind.defaultBase
    }

    public var name: String { kind.rawValue }

    /// A provider variable that cannot be sent (a line break or control character in it).
    static func unusableVariable(_ variable: String, _ deployment: Deployment) -> OpenAIError {
        .internalError("Deployment '\(deployment.modelName)' (\(deployment.params.model)) cannot be called: environment variable \(variable) contains a line break or another control character, which cannot be sent upstream. Fix the variable and restart Switchboard.")
    }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let p = deployment.params
        guard let base = p.apiBase ?? defaultBase else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' (\(p.model)) needs litellm_params.api_base for provider '\(name)'.")
        }
        // Config values were checked at load; the provider's environment variables are checked here.
        if p.apiBase == nil, let variable = defaultBaseVariable, !HeaderValidation.isValidValue(base) {
            throw Self.unusableVariable(variable, deployment)
        }
        guard let url = UpstreamURL(base) else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' has an api_base that is not an http(s) URL; fix litellm_params.api_base in the config.")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        // Authorization: litellm_params.api_key, else the api_base's user:password@ (Basic), else
        // the provider's key variable. An empty api_key sends none.
        var warnings: [String] = []
        if let key = p.apiKey, !key.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(key)")
            if url.credentials != nil {
                warnings.append("api_base has user:password@ and api_key is set: api_key is sent as Authorization: Bearer, the api_base credentials are not")
            }
        } else if let credentials = url.credentials {
            headers.add(name: "Authorization", value: credentials.authorization)
        } else if p.apiKey == nil, let key = defaultKey {
            guard HeaderValidation.isValidValue(key) else { throw Self.unusableVariable(kind.keyVariable, deployment) }
            headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        if let org = p.organization, !org.isEmpty {
            headers.add(name: "OpenAI-Organization", value: org)
        }
        PlanHeaders.addExtraHeaders(p, to: &headers, warnings: &warnings)
        let shown = PlanHeaders.shownBase(url.target, path: url.path)
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: model, url: url, headers: headers, apiBase: shown, warnings: warnings)
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        var body = ByteBufferAllocator().buffer(capacity: call.body.readableBytes + 64)  // one allocation, sized for the rewrite
        RequestBodyRewriter.rewrite(
            call, model: plan.upstreamModel, defaults: plan.deployment.params.requestDefaults,
            keep: call.dropParams ? RequestBodyRewriter.openAIParams(for: call.endpoint) : nil,
            askUsage: call.stream && !call.clientWantsUsage, into: &body)
        return UpstreamRequest(target: plan.target, uri: plan.openAIURI(call.endpoint), headers: plan.headers, body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        OpenAIResponseTranslator(hideUsageChunk: call.stream && !call.clientWantsUsage)
    }
}
