import Foundation
import OpenAIWire

/// Loads a LiteLLM proxy `config.yaml` into a resolved `GatewayConfig`.
///
/// ```swift
/// let config = try ConfigLoader().load(path: "config.yaml")
/// for warning in config.warnings { print(warning) }
/// ```
///
/// Loading is all-or-nothing: any problem is a `ConfigError` naming the key path, e.g.
/// `model_list[2].litellm_params.rpm: expected integer, got "fast"`. Unknown keys and suspicious
/// values are `ConfigWarning`s instead. So is an unset `os.environ/NAME` variable in
/// `model_list`, `credential_list` or `environment_variables` (it reads as absent, is listed in
/// `missingVariables`, and the deployments whose `litellm_params` need it are marked unusable),
/// unless `strictEnvironment` is set; in the settings sections it is always an error, so that a
/// missing `master_key` can never open the gateway.
///
/// Order of work: YAML is parsed (scalars typed as PyYAML does); `environment_variables` are merged
/// into the environment; `os.environ/NAME` references are resolved everywhere; `credential_list`
/// values fill what deployments do not set; organization lists expand; entries whose
/// `supported_environments` exclude `LITELLM_ENVIRONMENT` are dropped (their variables need not
/// be set). Deployments without `model_info.id` get the lowercase hex SHA-256 of their entry as
/// written (before resolution, so rotating a secret keeps the id), plus the organization for
/// expanded entries and the entry's index when an identical entry came earlier.
public struct ConfigLoader: Sendable {
    /// The variables `os.environ/NAME` reads, before `environment_variables` are merged in.
    public var environment: [String: String]
    /// Whether `environment_variables` are also exported into the process with `setenv`.
    public var exportsEnvironmentVariables: Bool
    /// Whether an unset `os.environ/NAME` variable anywhere fails the load (else only in the
    /// settings sections; elsewhere it is a warning).
    public var strictEnvironment: Bool
    /// Values read from the config's secret manager (`general_settings.key_management_system`):
    /// `os.environ/NAME` reads them before the environment. See ``secretRequest(yaml:)``.
    public var secrets: ResolvedSecrets = .none

    /// - Parameters:
    ///   - environment: the variables `os.environ/NAME` reads (defaults to the process environment).
    ///     Also the source of `LITELLM_ENVIRONMENT`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`,
    ///     `REDIS_CLUSTER_NODES`, `REDIS_SSL*` and `DATABASE_URL`.
    ///   - exportsEnvironmentVariables: when true, `environment_variables` are also `setenv()`'d into
    ///     the process (not thread-safe: load before starting threads that read the environment).
    ///   - strictEnvironment: when true, any unset `os.environ/NAME` variable fails the load.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        exportsEnvironmentVariables: Bool = true,
        strictEnvironment: Bool = false
    ) {
        self.environment = environment
        self.exportsEnvironmentVariables = exportsEnvironmentVariables
        self.strictEnvironment = strictEnvironment
    }

    /// Loads the file at `path`. An unreadable file is a `ConfigError` naming the path.
    public func load(path: String) throws(ConfigError) -> GatewayConfig {
        try load(yaml: Self.text(path: path))
    }

    /// The text of the config file at `path`. An unreadable file is a `ConfigError` naming the path.
    public static func text(path: String) throws(ConfigError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(path: "", message: "cannot read config file \(path): \(Self.reason(error, path: path))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: "", message: "config file \(path) is not UTF-8 text")
        }
        return text
    }

    /// Loads configuration text.
    public func load(yaml: String) throws(ConfigError) -> GatewayConfig {
        let tree = try YAMLTree.parse(yaml)
        var builder = ConfigBuilder(environment: environment, exports: exportsEnvironmentVariables,
                                    strict: strictEnvironment)
        builder.secrets = secrets.values
        return try builder.build(tree)
    }

    /// What the config needs from its secret manager, `nil` when it names none (or only writes to
    /// it): the `os.environ/` names to look up there. Parses the text, resolves nothing.
    public func secretRequest(yaml: String) throws(ConfigError) -> SecretRequest? {
        let tree = try YAMLTree.parse(yaml)
        guard case .object(let members) = tree else { return nil }
        let root = MappingReader(members: members, path: "")
        var ignored: [ConfigWarning] = []
        guard let settings = try SecretManagerSettingsParser.parse(
            root["general_settings"] ?? .null, environment: environment, warnings: &ignored),
            settings.accessMode != .writeOnly else { return nil }
        var names: [String] = []
        var paths: [String: String] = [:]
        SecretReferenceScanner.scan(tree, at: "", into: &names, paths: &paths)
        // The manager's own settings may come from `environment_variables`, as in LiteLLM, which
        // sets them before starting its manager; values naming other variables resolve from the
        // environment here (never from the manager, which is not running yet).
        var managerEnvironment = environment
        for variable in (try? root.mapping("environment_variables")) ?? [] {
            let resolver = EnvironmentResolver(environment: managerEnvironment)
            var missing: [MissingVariable]? = []
            guard let value = try? resolver.resolve(variable.value, at: "", missing: &missing), missing?.isEmpty != false,
                  let text = try? ValueConversion.environmentString(value, at: "") else { continue }
            managerEnvironment[variable.key] = text
        }
        return SecretRequest(settings: settings, names: names.filter(settings.readsFromManager), paths: paths,
                             environment: managerEnvironment)
    }

    /// Loads configuration text, first reading its `os.environ/` values from its secret manager
    /// through `resolver` when it names one. A secret that cannot be read (other than one the
    /// manager does not hold, which falls back to the environment) fails the load, naming the
    /// secret, where the config uses it and the manager.
    public func load(yaml: String, resolver: any SecretResolving, fresh: Bool = false) async throws(ConfigError) -> (GatewayConfig, ResolvedSecrets) {
        var loader = self
        if let request = try secretRequest(yaml: yaml) {
            do {
                loader.secrets = try await resolver.resolve(request, fresh: fresh)
            } catch {
                throw error.configError(paths: request.paths)
            }
        }
        return (try loader.load(yaml: yaml), loader.secrets)
    }

    private static func reason(_ error: any Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return error.localizedDescription
    }
}
