import OpenAIWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a `GatewayConfig` from the parsed YAML tree, section by section.
struct ConfigBuilder {
    var environment: [String: String]
    let exports: Bool
    /// Whether an unset `os.environ/` variable fails the load everywhere (else only in settings).
    let strict: Bool
    /// Values read from the secret manager, by `os.environ/` name (read before the environment).
    var secrets: [String: String] = [:]
    var warnings: [ConfigWarning] = []
    /// Unset variables found so far (never when `strict`).
    var missing: [MissingVariable] = []

    mutating func build(_ tree: JSONValue) throws(ConfigError) -> GatewayConfig {
        do throws(ConfigError) {
            var config = try buildConfig(tree)
            if !secrets.isEmpty {
                config.warnings = config.warnings.map { ConfigWarning(path: $0.path, message: hidingSecrets($0.message)) }
            }
            return config
        } catch {
            // A value the config cannot do without (a required key) came from an unset variable:
            // say so rather than "required key is missing".
            if let variable = missing.first(where: { $0.path == error.path }) {
                throw EnvironmentResolver.unsetError(name: variable.name, path: variable.path)
            }
            throw ConfigError(path: error.path, message: hidingSecrets(error.message))
        }
    }

    /// `text` with every secret manager value in it replaced: an error about a value that came
    /// from the manager (`expected integer, got "..."`) must not show it.
    private func hidingSecrets(_ text: String) -> String {
        var text = text
        for value in secrets.values where !value.isEmpty && text.contains(value) {
            text = text.split(separator: value, omittingEmptySubsequences: false).joined(separator: "[secret value hidden]")
        }
        return text
    }

    private mutating func buildConfig(_ tree: JSONValue) throws(ConfigError) -> GatewayConfig {
        let root: MappingReader
        switch tree {
        case .null:
            warnings.append(ConfigWarning(path: "", message: "the configuration is empty: no model can be served"))
            root = MappingReader(members: [], path: "")
        case .object(let members):
            root = MappingReader(members: members, path: "")
        case .array:
            throw ConfigError(path: "", message: "the top level must be a mapping, found a list; "
                + "put deployments under a model_list: key")
        default:
            throw ConfigError(path: "", message: "the top level must be a mapping with a model_list: key, found "
                + ValueConversion.describe(tree))
        }
        warnings += root.unknownKeys(known: KnownKeys.topLevel, message: "unknown top-level section, ignored")

        var config = GatewayConfig()
        config.environmentVariables = try environmentVariables(root)
        var resolver = EnvironmentResolver(environment: environment)
        resolver.secrets = secrets
        var credentialMissing: [MissingVariable]? = strict ? nil : []
        let credentialsValue = try resolver.resolve(root["credential_list"] ?? .null, at: "credential_list",
                                                    missing: &credentialMissing)
        missing += credentialMissing ?? []
        config.credentials = try CredentialParser.parse(credentialsValue, path: "credential_list", warnings: &warnings)
        let parser = DeploymentParser(resolver: resolver, credentials: config.credentials,
                                      activeEnvironment: try activeEnvironment(), strict: strict,
                                      credentialMissing: credentialMissing ?? [])
        config.deployments = try deployments(root, parser: parser)
        // The settings sections resolve strictly: an unset master_key must never open the gateway.
        config.litellmSettings = try SettingsParser.litellm(
            resolver.resolve(root["litellm_settings"] ?? .null, at: "litellm_settings"), warnings: &warnings)
        config.routerSettings = try RouterSettingsParser.parse(
            resolver.resolve(root["router_settings"] ?? .null, at: "router_settings"),
            environment: environment, warnings: &warnings)
        config.generalSettings = try SettingsParser.general(
            resolver.resolve(root["general_settings"] ?? .null, at: "general_settings"),
            environment: environment, warnings: &warnings)
        config.secretManager = try SecretManagerSettingsParser.parse(
            root["general_settings"] ?? .null, environment: environment, warnings: &warnings)
        config.missingVariables = missing
        config.warnings = warnings + missingWarnings()
        return config
    }

    /// One warning per unset variable, at its first key path, listing the others.
    private func missingWarnings() -> [ConfigWarning] {
        var names: [String] = []
        for variable in missing where !names.contains(variable.name) { names.append(variable.name) }
        return names.map { name in
            let paths = missing.filter { $0.name == name }.map(\.path)
            let also = paths.count > 1 ? " (also at \(paths.dropFirst().joined(separator: ", ")))" : ""
            return ConfigWarning(
                path: paths[0],
                message: "environment variable \(name) is not set, so this value is absent\(also); calls to the "
                    + "deployments that need it fail until it is set")
        }
    }

    /// Merges `environment_variables` into the environment, in file order (each value may use
    /// `os.environ/` of the ones before it), exporting them when asked.
    private mutating func environmentVariables(_ root: MappingReader) throws(ConfigError) -> [String: String] {
        guard let variables = try root.mapping("environment_variables") else { return [:] }
        var given: [String: String] = [:]
        for variable in variables {
            let path = KeyPath.child("environment_variables", variable.key)
            guard !variable.key.isEmpty, !variable.key.contains("=") else {
                throw ConfigError(path: path, message: "not a valid environment variable name")
            }
            var found: [MissingVariable]? = strict ? nil : []
            var resolver = EnvironmentResolver(environment: environment)
            resolver.secrets = secrets
            let value = try resolver.resolve(variable.value, at: path, missing: &found)
            if let found, !found.isEmpty {
                missing += found  // left unset: what reads it is reported missing in turn
                continue
            }
            let text = try ValueConversion.environmentString(value, at: path)
            environment[variable.key] = text
            given[variable.key] = text
            if exports { setenv(variable.key, text, 1) }
        }
        return given
    }

    private func activeEnvironment() throws(ConfigError) -> String? {
        guard let value = SettingsParser.nonEmpty(environment["LITELLM_ENVIRONMENT"]?.trimmingSpaces) else {
            return nil
        }
        guard ModelInfoParser.environments.contains(value) else {
            throw ConfigError(path: "", message: "LITELLM_ENVIRONMENT is \"\(value)\"; use one of "
                + ModelInfoParser.environments.joined(separator: ", "))
        }
        return value
    }

    private mutating func deployments(_ root: MappingReader, parser: DeploymentParser) throws(ConfigError) -> [Deployment] {
        guard let listValue = root["model_list"] else {
            if !root.members.isEmpty {
                warnings.append(ConfigWarning(path: "model_list", message: "no model_list: no model can be served"))
            }
            return []
        }
        let entries = try ValueConversion.list(listValue, at: "model_list")
        if entries.isEmpty {
            warnings.append(ConfigWarning(path: "model_list", message: "empty: no model can be served"))
        }
        try checkExplicitIDs(entries)
        var baseTexts: [String] = []
        var deployments: [Deployment] = []
        var origin: [String: Int] = [:]
        for (i, entry) in entries.enumerated() {
            let baseText = DeploymentID.baseText(modelName: entry["model_name"], litellmParams: entry["litellm_params"])
            let idIndex = baseTexts.contains(baseText) ? i : nil
            baseTexts.append(baseText)
            for deployment in try parser.parse(entry, index: i, baseText: baseText, idIndex: idIndex,
                                               warnings: &warnings, missing: &missing) {
                if let first = origin[deployment.id] {
                    throw ConfigError(path: KeyPath.index("model_list", i),
                                      message: "deployment id \"\(deployment.id)\" is also used by model_list[\(first)]")
                }
                origin[deployment.id] = i
                deployments.append(deployment)
            }
        }
        return deployments
    }

    /// Explicit `model_info.id`s must be unique across the whole list, loaded or not.
    private func checkExplicitIDs(_ entries: [JSONValue]) throws(ConfigError) {
        var seen: [String: Int] = [:]
        for (i, entry) in entries.enumerated() {
            guard let raw = entry["model_info"]?["id"], let id = try? ValueConversion.string(raw, at: ""),
                  !id.isEmpty else { continue }
            if let first = seen[id] {
                throw ConfigError(path: "model_list[\(i)].model_info.id",
                                  message: "duplicate id \"\(id)\" (also the id of model_list[\(first)])")
            }
            seen[id] = i
        }
    }
}
