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

    /// `custom_tokenizer: {identifier, revision, auth_token}`; `identifier` is required and a hub id
    /// must be `owner/name` (or a single name).
    static func customTokenizer(_ info: MappingReader) throws(ConfigError) -> CustomTokenizer? {
        guard let reader = try info.reader("custom_tokenizer") else { return nil }
        let identifier = try reader.requiredString("identifier")
        var tokenizer = CustomTokenizer(identifier: identifier, revision: try reader.string("revision") ?? "main", authToken: try reader.string("auth_token"))
        if tokenizer.localPath == nil {
            let parts = identifier.split(separator: "/", omittingEmptySubsequences: false)
            let valid = (1...2).contains(parts.count) && parts.allSatisfy { part in
                !part.isEmpty && part != "." && part != ".." && part.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            }
            guard valid else {
                throw ConfigError(
                    path: reader.path("identifier"),
                    message: "\(ValueConversion.describe(.string(identifier))) is neither a Hugging Face repo id (owner/name) nor a local path (/, ./, ../ or file://)")
            }
        }
        if tokenizer.revision.isEmpty || tokenizer.revision.contains("..") {
            throw ConfigError(path: reader.path("revision"), message: "must be a branch, tag or commit")
        }
        if tokenizer.authToken?.isEmpty == true { tokenizer.authToken = nil }
        return tokenizer
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
        model.customTokenizer = try customTokenizer(info)
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
