import OpenAIWire

/// Reads a deployment's `model_info` (resolved). Every key is kept in `ModelInfo.all`.
enum ModelInfoParser {
    /// The values `supported_environments` and `LITELLM_ENVIRONMENT` may take.
    static let environments = ["production", "staging", "development"]

    /// `supported_environments`, each value checked.
    static func supportedEnvironments(_ info: MappingReader) throws(ConfigError) -> [String]? {
        guard let values = try info.stringList("supported_environments") else { return nil }
        for (i, value) in values.enumerated() where !environments.contains(value) {
            throw ConfigError(
                path: KeyPath.index(info.path("supported_environments"), i),
                message: "\(ValueConversion.describe(.string(value))) is not an environment; "
                    + "use one of \(environments.joined(separator: ", "))")
        }
        return values
    }

    /// The `ModelInfo` with `id` set: it replaces a given `id` in place, or comes first in `all`.
    static func parse(_ info: MappingReader, id: String) throws(ConfigError) -> ModelInfo {
        var model = ModelInfo(id: id)
        model.mode = try info.string("mode")
        model.baseModel = try info.string("base_model")
        model.supportedEnvironments = try supportedEnvironments(info)
        model.accessGroups = try info.stringList("access_groups") ?? []
        model.maxInputTokens = try info.int("max_input_tokens", minimum: 0)
        model.maxOutputTokens = try info.int("max_output_tokens", minimum: 0)
        model.inputCostPerToken = try info.double("input_cost_per_token", minimum: 0)
        model.outputCostPerToken = try info.double("output_cost_per_token", minimum: 0)
        var all = info.members
        if let i = all.firstIndex(where: { $0.key == "id" }) {
            all[i].value = .string(id)
        } else {
            all.insert(JSONMember("id", .string(id)), at: 0)
        }
        model.all = all
        return model
    }
}
