import OpenAIWire
import SwitchboardConfig

/// Knows every provider and tells which one serves a `litellm_params.model` string.
///
/// ```swift
/// let registry = ProviderRegistry(environment: ProcessInfo.processInfo.environment)
/// let plan = try registry.plan(deployment, model: "openai/gpt-4o")
/// ```
public struct ProviderRegistry: Sendable {
    let providers: [String: any Provider]

    /// `environment` supplies provider default credentials (`OPENAI_API_KEY`, ...), read once.
    public init(environment: [String: String]) {
        var all: [String: any Provider] = [:]
        for kind in OpenAICompatibleProvider.Kind.allCases {
            all[kind.rawValue] = OpenAICompatibleProvider(kind: kind, environment: environment)
        }
        all["azure"] = AzureOpenAIProvider(environment: environment)
        all["ollama"] = OllamaProvider(name: "ollama", environment: environment)
        all["ollama_chat"] = OllamaProvider(name: "ollama_chat", environment: environment)
        all["huggingface"] = HuggingFaceProvider(environment: environment)
        all["anthropic"] = AnthropicProvider(environment: environment)
        all["bedrock"] = BedrockProvider(environment: environment)
        all["sagemaker"] = SageMakerProvider(environment: environment)
        providers = all
    }


    /// Provider prefixes that are recognised but whose wire format is not built yet.
    static let plannedPrefixes: Set<String> = [
        "azure_ai",
        "vertex_ai", "gemini", "cohere", "mistral", "groq", "together_ai", "replicate",
    ]

    /// Provider prefixes served by their own provider (not OpenAI-compatible relays).
    static let translatedPrefixes: Set<String> = ["azure", "ollama", "ollama_chat", "huggingface", "anthropic", "bedrock", "sagemaker"]

    /// Name prefixes of OpenAI's model families (bare names without a provider prefix).
    static let openAIFamilies = [
        "gpt-", "o1", "o3", "o4", "chatgpt-", "text-embedding-", "text-davinci", "davinci", "babbage", "ft:gpt",
        "omni-moderation", "text-moderation", "dall-e", "whisper", "tts-",
    ]

    /// Splits `model` into provider and provider model name. Bare names are inferred:
    /// OpenAI's families (`gpt-`, `o1`, `text-embedding-`, ...) go to `openai`, `claude-` to
    /// `anthropic`.
    public static func split(_ model: String) -> (provider: String, model: String)? {
        if let slash = model.firstIndex(of: "/") {
            let prefix = String(model[..<slash])
            if OpenAICompatibleProvider.Kind(rawValue: prefix) != nil || translatedPrefixes.contains(prefix) || plannedPrefixes.contains(prefix) {
                return (prefix, String(model[model.index(after: slash)...]))
            }
        }
        if Self.openAIFamilies.contains(where: { model.hasPrefix($0) }) { return ("openai", model) }
        if model.hasPrefix("claude-") { return ("anthropic", model) }
        if model.hasPrefix("deepseek-") { return ("deepseek", model) }
        return nil
    }

    /// Prepares `deployment` to serve `model` (its `litellm_params.model`, wildcards expanded).
    /// A deployment whose config names an unset `os.environ/` variable is refused (500) naming it.
    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        if !deployment.missingVariables.isEmpty { throw Self.missingVariables(deployment) }
        guard let (prefix, upstreamModel) = Self.split(model) else {
            throw OpenAIError.badRequest(
                "Cannot tell which provider serves model '\(model)'. Prefix it with the provider, e.g. 'openai/\(model)' for any OpenAI-compatible server.",
                param: "model")
        }
        guard let provider = providers[prefix] else {
            throw OpenAIError(
                status: 501,
                message: "Provider '\(prefix)' (model '\(model)') is not supported by this Switchboard build yet.",
                type: "not_implemented_error", param: "model")
        }
        return try provider.plan(deployment, model: upstreamModel)
    }

    /// The error for calls to a deployment that needs unset variables: 500 `internal_server_error`
    /// (the gateway's configuration is incomplete; the client did nothing wrong), naming each
    /// variable and where the config reads it. Never a value: there is none.
    static func missingVariables(_ deployment: Deployment) -> OpenAIError {
        var names: [String] = []
        for variable in deployment.missingVariables where !names.contains(variable.name) { names.append(variable.name) }
        let paths = deployment.missingVariables.map { "\($0.path) is os.environ/\($0.name)" }.joined(separator: "; ")
        let subject = names.count == 1 ? "environment variable \(names[0]) is" : "environment variables \(names.joined(separator: ", ")) are"
        return .internalError("Deployment '\(deployment.modelName)' (\(deployment.params.model)) cannot be called: \(subject) not set (\(paths)). Set it in Switchboard's environment and restart.")
    }
}
