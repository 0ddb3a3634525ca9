import ArgumentParser
import Foundation
import SwitchboardConfig

/// `switchboard check-config PATH`: validates a config and prints its model groups.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config.yaml and print its model groups and deployments.")

    @Argument(help: "Path to config.yaml.")
    var path: String

    func run() throws {
        do {
            let config = try ConfigLoader(environment: ProcessInfo.processInfo.environment, exportsEnvironmentVariables: true).load(path: path)
            print(config.summary())
            print("config OK: \(config.modelNames.count) model groups, \(config.deployments.count) deployments")
        } catch {
            FileHandle.standardError.write(Data("config error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
