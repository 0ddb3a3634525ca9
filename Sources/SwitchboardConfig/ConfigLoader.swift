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
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(path: "", message: "cannot read config file \(path): \(Self.reason(error, path: path))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: "", message: "config file \(path) is not UTF-8 text")
        }
        return try load(yaml: text)
    }

    /// Loads configuration text.
    public func load(yaml: String) throws(ConfigError) -> GatewayConfig {
        let tree = try YAMLTree.parse(yaml)
        var builder = ConfigBuilder(environment: environment, exports: exportsEnvironmentVariables,
                                    strict: strictEnvironment)
        return try builder.build(tree)
    }

    private static func reason(_ error: any Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return error.localizedDescription
    }
}
