import ConfigSources
import Logging
import SecretManagers
import Server
import Supervisor
import SwitchboardConfig

/// Where the config comes from (a bucket object when `LITELLM_CONFIG_BUCKET_NAME` is set, else
/// `--config`, else `CONFIG_FILE_PATH`, else the built-in demo; see ``ConfigSourceSelection``),
/// how its text is validated and where its secret manager's values come from.
struct ConfigSetup: Sendable {
    let source: (any ConfigSource)?
    /// To log once at start.
    let warnings: [String]
    let environment: [String: String]
    /// Refuse unset `os.environ/` variables (`--strict_env`, `SWITCHBOARD_STRICT_ENV`).
    let strict: Bool
    /// Reads `os.environ/` values from the config's secret manager, caching them between loads.
    let secrets = SecretManagerClients.resolver()

    init(option: String?, environment: [String: String], strict: Bool) throws(ConfigError) {
        do {
            let selection = try ConfigSourceSelection(configOption: option, environment: environment)
            source = selection.source
            warnings = selection.warnings
        } catch {
            throw ConfigError(path: "", message: error.description)
        }
        self.environment = environment
        self.strict = strict
    }

    /// A loader with this source's strictness.
    func loader(exporting: Bool) -> ConfigLoader {
        ConfigLoader(environment: environment, exportsEnvironmentVariables: exporting, strictEnvironment: strict)
    }

    var description: String { source?.description ?? "the built-in demo config (pass --config to use yours)" }

    /// The text to serve at start and its version (ETag, generation). A failed fetch names the
    /// object and the reason.
    func initialText() async throws(ConfigError) -> (text: String, version: String?) {
        guard let source else { return (DemoConfig.yaml, nil) }
        do throws(ConfigSourceError) {
            switch try await source.fetch(ifChangedFrom: nil) {
            case .changed(let text, let version): return (text, version)
            case .unchanged: throw ConfigSourceError("\(source.description) answered 'not modified' to an unconditional fetch")
            }
        } catch {
            throw ConfigError(path: "", message: error.description)
        }
    }

    /// Loads `text` completely, `os.environ/` included (its secret manager's values read once
    /// here, `fresh` or from the cache, for every worker), without exporting anything into this
    /// process; the workers load the same text again with the values handed to them.
    func validated(_ text: String, fresh: Bool) async throws(SupervisorError) -> ValidatedConfig {
        let config: GatewayConfig
        let values: ResolvedSecrets
        do {
            (config, values) = try await loader(exporting: false).load(yaml: text, resolver: secrets, fresh: fresh)
        } catch {
            throw SupervisorError(error.description)
        }
        var fingerprints: [String: String] = [:]
        for name in config.modelNames {
            // Deployment ids hash each entry as written, so a changed entry changes its group's print.
            fingerprints[name] = config.deployments.filter { $0.modelName == name }.map(\.id).joined(separator: ",")
        }
        var handoff: [UInt8]?
        var refresh: Duration?
        if let manager = config.secretManager, manager.accessMode != .writeOnly {
            Logger(label: "switchboard").info("\(SecretManagerClients.summary(values, system: manager.system))")
            handoff = values.encoded()
            refresh = .seconds(SecretManagerResolver.refreshSeconds(for: manager.system, environment: environment))
        }
        return ValidatedConfig(text: text, modelNames: config.modelNames, fingerprints: fingerprints,
                               warnings: config.warnings.map(\.description), secrets: handoff, secretRefresh: refresh)
    }
}
