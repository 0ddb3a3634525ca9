import SwitchboardConfig

/// What callbacks say about a deployment, by id: computed once from the config.
public struct DeploymentDirectory: Sendable {
    public struct Entry: Sendable {
        /// `litellm_params.model`, provider-prefixed as LiteLLM logs it.
        public var model: String
        public var provider: String
        /// Without credentials.
        public var apiBase: String?
        public var inputCostPerToken: Double?
        public var outputCostPerToken: Double?
    }

    let entries: [String: Entry]
    /// The distinct deployment ids in config order: index = the router's slot
    /// (`AttemptRecord.deploymentIndex`), for lookups without hashing an id.
    let ids: [String]

    public init(config: GatewayConfig) {
        var entries: [String: Entry] = [:]
        var ids: [String] = []
        for d in config.deployments where entries[d.id] == nil {
            ids.append(d.id)
            let model = d.params.model
            let provider = model.firstIndex(of: "/").map { String(model[..<$0]) } ?? "openai"
            entries[d.id] = Entry(
                model: model.contains("/") ? model : "openai/\(model)", provider: provider,
                apiBase: d.params.apiBase.map(SecretRedaction.redactURL),
                inputCostPerToken: d.modelInfo.inputCostPerToken, outputCostPerToken: d.modelInfo.outputCostPerToken)
        }
        self.entries = entries
        self.ids = ids
    }

    public subscript(id: String?) -> Entry? { id.flatMap { entries[$0] } }
}
