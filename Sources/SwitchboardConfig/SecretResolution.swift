import OpenAIWire

/// What a config needs from its secret manager: the `os.environ/NAME` names to look up there, in
/// the order the config first uses them, and where each is first used (for errors).
///
/// Made by ``ConfigLoader/secretRequest(yaml:)`` before the config is parsed; a
/// ``SecretResolving`` answers it with ``ResolvedSecrets``, which ``ConfigLoader/secrets`` then
/// reads before the environment. The config layer itself never touches the network.
public struct SecretRequest: Sendable {
    public var settings: SecretManagerSettings
    /// Names to read from the manager (`hosted_keys` applied), first use first.
    public var names: [String]
    /// The key path where each name is first used.
    public var paths: [String: String]
    /// The variables the manager's own settings come from (`AZURE_KEY_VAULT_URI`, `HCP_VAULT_ADDR`,
    /// ...): the process environment with the config's `environment_variables` merged in, as LiteLLM
    /// sets them before it starts its secret manager.
    public var environment: [String: String]

    public init(settings: SecretManagerSettings, names: [String], paths: [String: String] = [:],
                environment: [String: String]) {
        self.settings = settings
        self.names = names
        self.paths = paths
        self.environment = environment
    }
}

/// Secret values read from a secret manager, by `os.environ/` name. Held in memory only: the
/// description never shows a value, and the encoded form is only ever written to an anonymous
/// memory file handed to workers.
public struct ResolvedSecrets: Sendable, Equatable, CustomStringConvertible {
    public private(set) var values: [String: String]

    public static let none = ResolvedSecrets(values: [:])

    public init(values: [String: String]) { self.values = values }

    public subscript(name: String) -> String? { values[name] }

    public var isEmpty: Bool { values.isEmpty }

    public var description: String { "\(values.count) secret value(s) (hidden)" }

    /// A JSON object of name → value, for the hand-off to workers.
    public func encoded() -> [UInt8] {
        let members = values.keys.sorted().map { JSONMember($0, .string(values[$0]!)) }
        return Array(JSONValue.object(members).jsonText.utf8)
    }

    /// Reads what ``encoded()`` wrote. The error never quotes the bytes.
    public init(decoding bytes: [UInt8]) throws(ConfigError) {
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw ConfigError(path: "", message: "the secret values handed over by the supervisor are not valid JSON")
        }
        guard let members = parsed.objectValue else {
            throw ConfigError(path: "", message: "the secret values handed over by the supervisor are not a JSON object")
        }
        var values: [String: String] = [:]
        for member in members {
            guard let text = member.value.stringValue else {
                throw ConfigError(path: "", message: "the secret value of \(member.key) handed over by the supervisor is not a string")
            }
            values[member.key] = text
        }
        self.values = values
    }
}

/// Reads a config's secrets from its secret manager (implemented outside the config layer, which
/// has no networking; see the `SecretManagers` target).
public protocol SecretResolving: Sendable {
    /// The values the manager holds for `request.names`. A name the manager does not have is left
    /// out (the environment is used, as LiteLLM falls back to it); any other failure throws.
    /// - Parameter fresh: read every value from the manager, ignoring cached ones (a SIGHUP).
    func resolve(_ request: SecretRequest, fresh: Bool) async throws(SecretResolutionError) -> ResolvedSecrets
}

/// A secret that could not be read: names the secret, the manager and the reason, never a value.
public struct SecretResolutionError: Error, Sendable, CustomStringConvertible {
    /// The `os.environ/` name, `nil` when the manager could not be used at all (bad settings, login).
    public var name: String?
    public var system: KeyManagementSystem
    public var reason: String

    public init(name: String?, system: KeyManagementSystem, reason: String) {
        self.name = name
        self.system = system
        self.reason = reason
    }

    public var description: String {
        if let name { return "cannot read secret \(name) from \(system.displayName): \(reason)" }
        return "\(system.displayName) (general_settings.key_management_system: \(system.rawValue)): \(reason)"
    }

    /// The same error as a config error, at the key path where the secret is first used.
    public func configError(paths: [String: String]) -> ConfigError {
        let path = name.flatMap { paths[$0] } ?? (name == nil ? "general_settings.key_management_system" : "")
        return ConfigError(path: path, message: description)
    }
}

/// Finds every `os.environ/NAME` reference in a parsed config, with the key path of its first use.
enum SecretReferenceScanner {
    static func scan(_ value: JSONValue, at path: String, into names: inout [String], paths: inout [String: String]) {
        switch value {
        case .string(let text):
            guard let name = EnvironmentResolver.variableName(text), !name.isEmpty, paths[name] == nil else { return }
            names.append(name)
            paths[name] = path
        case .array(let items):
            for (i, item) in items.enumerated() { scan(item, at: KeyPath.index(path, i), into: &names, paths: &paths) }
        case .object(let members):
            for member in members { scan(member.value, at: KeyPath.child(path, member.key), into: &names, paths: &paths) }
        default:
            break
        }
    }
}
