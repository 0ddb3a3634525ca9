import ArgumentParser
import ConfigSources
import Foundation
import SecretManagers
import SwitchboardConfig

/// `switchboard check-config [PATH]`: validates a config and prints its model groups. Without a
/// path it checks the config the gateway would serve: the bucket object
/// (`LITELLM_CONFIG_BUCKET_NAME`) or `CONFIG_FILE_PATH`.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config.yaml (a file, or the bucket object / CONFIG_FILE_PATH the gateway would read) and print its model groups and deployments.")

    @Argument(help: "Path to config.yaml (else the LITELLM_CONFIG_BUCKET_* object, else $CONFIG_FILE_PATH).")
    var path: String?

    @Flag(name: .customLong("strict_env"), help: "Fail when the config names an unset os.environ/ variable (else they are listed). Also SWITCHBOARD_STRICT_ENV=1.")
    var strictEnv = false

    func run() async throws {
        do {
            let environment = ProcessInfo.processInfo.environment
            let settings = try RuntimeSettings(environment: environment)
            let loader = ConfigLoader(
                environment: environment, exportsEnvironmentVariables: true,
                strictEnvironment: strictEnv || settings.strictEnvironment)
            let source: any ConfigSource
            if let path {
                source = FileConfigSource(path: path)
            } else {
                let setup = try ConfigSetup(option: nil, environment: environment, strict: false)
                guard let chosen = setup.source else {
                    throw ConfigError(path: "", message: "no config to check: pass a path, or set LITELLM_CONFIG_BUCKET_NAME or CONFIG_FILE_PATH")
                }
                source = chosen
            }
            let text: String
            do throws(ConfigSourceError) {
                guard case .changed(let fetched, _) = try await source.fetch(ifChangedFrom: nil) else {
                    throw ConfigSourceError("\(source.description) answered 'not modified' to an unconditional fetch")
                }
                text = fetched
            } catch {
                throw ConfigError(path: "", message: error.description)
            }
            // Reads the config's secret manager, as the gateway would at start.
            let (config, secrets) = try await loader.load(yaml: text, resolver: SecretManagerClients.resolver())
            print(config.summary())
            if let manager = config.secretManager, manager.accessMode != .writeOnly {
                print(SecretManagerClients.summary(secrets, system: manager.system))
            }
            print("config OK (\(source.description)): \(config.modelNames.count) model groups, \(config.deployments.count) deployments"
                + (config.missingVariables.isEmpty ? "" : "; environment variables not set: "
                    + Self.names(config.missingVariables).joined(separator: ", ")))
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("config error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func names(_ missing: [MissingVariable]) -> [String] {
        var names: [String] = []
        for variable in missing where !names.contains(variable.name) { names.append(variable.name) }
        return names
    }
}
