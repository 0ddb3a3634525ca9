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
        providers = all
    }

    /// Provider prefixes that are recognised but whose wire format is not built yet.
    static let plannedPrefixes: Set<String> = [
        "azure", "azure_ai", "anthropic", "bedrock", "huggingface", "ollama", "ollama_chat", "sagemaker",
        "vertex_ai", "gemini", "cohere", "mistral", "groq", "together_ai", "replicate",
    ]

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
            if OpenAICompatibleProvider.Kind(rawValue: prefix) != nil || plannedPrefixes.contains(prefix) {
                return (prefix, String(model[model.index(after: slash)...]))
            }
        }
        if Self.openAIFamilies.contains(where: { model.hasPrefix($0) }) { return ("openai", model) }
        if model.hasPrefix("claude-") { return ("anthropic", model) }
        if model.hasPrefix("deepseek-") { return ("deepseek", model) }
        return nil
    }

    /// Prepares `deployment` to serve `model` (its `litellm_params.model`, wildcards expanded).
    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
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
}
