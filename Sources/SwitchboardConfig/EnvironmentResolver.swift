import OpenAIWire

/// Replaces every string value `os.environ/NAME`, at any depth, with the variable's value: the
/// secret manager's value when it has one (``secrets``), else the environment's.
///
/// An unset variable is either an error naming the key path (strict), or, when the caller passes a
/// list to collect them in, resolves to `null` and is added to that list (LiteLLM also yields
/// null; the gateway then refuses calls to the deployments that needed the value).
struct EnvironmentResolver {
    static let prefix = "os.environ/"

    let environment: [String: String]
    /// Values read from the config's secret manager; they win over the environment.
    var secrets: [String: String] = [:]

    /// Resolves strictly: an unset variable throws.
    func resolve(_ value: JSONValue, at path: String) throws(ConfigError) -> JSONValue {
        var strict: [MissingVariable]? = nil
        return try resolve(value, at: path, missing: &strict)
    }

    /// Resolves `value`. When `missing` is not `nil`, unset variables become `null` and are appended
    /// to it; when it is `nil`, they throw.
    func resolve(_ value: JSONValue, at path: String, missing: inout [MissingVariable]?) throws(ConfigError) -> JSONValue {
        switch value {
        case .string(let text):
            guard let name = Self.variableName(text) else { return value }
            guard !name.isEmpty else {
                throw ConfigError(path: path, message: "\"\(text)\" names no environment variable")
            }
            if let resolved = secrets[name] ?? environment[name] { return .string(resolved) }
            guard missing != nil else { throw Self.unsetError(name: name, path: path) }
            missing?.append(MissingVariable(name: name, path: path))
            return .null
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                out.append(try resolve(item, at: KeyPath.index(path, i), missing: &missing))
            }
            return .array(out)
        case .object(let members):
            var out: [JSONMember] = []
            out.reserveCapacity(members.count)
            for member in members {
                out.append(JSONMember(member.key, try resolve(member.value, at: KeyPath.child(path, member.key),
                                                                missing: &missing)))
            }
            return .object(out)
        default:
            return value
        }
    }

    /// The error for an unset variable (strict loading, or a value the config cannot do without).
    static func unsetError(name: String, path: String) -> ConfigError {
        ConfigError(path: path, message: "environment variable \(name) is not set (the value is os.environ/\(name))")
    }

    /// `NAME` when `text` is an `os.environ/NAME` reference.
    static func variableName(_ text: String) -> String? {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasPrefix(prefix) else { return nil }
        return String(trimmed.dropFirst(prefix.count))
    }
}
