import ArgumentParser
import Foundation
import SecretManagers
import SwitchboardConfig

/// `switchboard check-config PATH`: validates a config and prints its model groups.
struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config.yaml and print its model groups and deployments.")

    @Argument(help: "Path to config.yaml.")
    var path: String

    @Flag(name: .customLong("strict_env"), help: "Fail when the config names an unset os.environ/ variable (else they are listed). Also SWITCHBOARD_STRICT_ENV=1.")
    var strictEnv = false

    func run() async throws {
        do {
            let environment = ProcessInfo.processInfo.environment
            let settings = try RuntimeSettings(environment: environment)
            // Reads the config's secret manager, as the gateway would at start.
            let (config, secrets) = try await ConfigLoader(
                environment: environment, exportsEnvironmentVariables: true,
                strictEnvironment: strictEnv || settings.strictEnvironment
            ).load(yaml: ConfigLoader.text(path: path), resolver: SecretManagerClients.resolver())
            print(config.summary())
            if let manager = config.secretManager, manager.accessMode != .writeOnly {
                print(SecretManagerClients.summary(secrets, system: manager.system))
            }
            print("config OK: \(config.modelNames.count) model groups, \(config.deployments.count) deployments"
                + (config.missingVariables.isEmpty ? "" : "; environment variables not set: "
                    + Self.names(config.missingVariables).joined(separator: ", ")))
        } catch {
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
