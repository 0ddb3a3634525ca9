import Foundation
import OpenAIWire
import SwitchboardConfig
import XCTest

/// Loads `yaml` with exactly `environment` (nothing from the process) and no exporting.
func load(_ yaml: String, environment: [String: String] = [:], strict: Bool = false) throws -> GatewayConfig {
    try ConfigLoader(environment: environment, exportsEnvironmentVariables: false, strictEnvironment: strict).load(yaml: yaml)
}

/// The error loading `yaml` throws; fails the test when it loads.
func loadError(
    _ yaml: String, environment: [String: String] = [:], strict: Bool = false,
    file: StaticString = #filePath, line: UInt = #line
) -> ConfigError? {
    do {
        _ = try ConfigLoader(environment: environment, exportsEnvironmentVariables: false, strictEnvironment: strict)
            .load(yaml: yaml)
        XCTFail("expected a ConfigError", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

/// The path of fixture `name` (without `.yaml`).
func fixturePath(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let url = Bundle.module.url(forResource: name, withExtension: "yaml", subdirectory: "Fixtures")
    return try XCTUnwrap(url, "missing fixture \(name).yaml", file: file, line: line).path
}

func loadFixture(_ name: String, environment: [String: String] = [:]) throws -> GatewayConfig {
    try ConfigLoader(environment: environment, exportsEnvironmentVariables: false).load(path: fixturePath(name))
}

extension Array where Element == JSONMember {
    subscript(key: String) -> JSONValue? { first { $0.key == key }?.value }
    var keys: [String] { map(\.key) }
}
