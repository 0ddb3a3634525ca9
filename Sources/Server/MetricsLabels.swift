import SwitchboardConfig

/// Label values of each deployment, by slot, computed once at start.
struct DeploymentMetricLabels: Sendable {
    var modelName: String
    /// `litellm_params.model` (LiteLLM's `model` / `litellm_model_name`).
    var model: String
    var id: String
    var apiBase: String
    /// The provider prefix of `model` (`openai` when it has none).
    var provider: String
    /// USD per token (0 when `model_info` gives no price).
    var inputCost: Double
    var outputCost: Double

    init(_ d: Deployment) {
        modelName = d.modelName
        model = d.params.model
        id = d.id
        apiBase = d.params.apiBase ?? "None"
        provider = d.params.model.firstIndex(of: "/").map { String(d.params.model[..<$0]) } ?? "openai"
        inputCost = d.modelInfo.inputCostPerToken ?? 0
        outputCost = d.modelInfo.outputCostPerToken ?? 0
    }
}
