import OpenAIWire

/// Replaces every string value `os.environ/NAME`, at any depth, with the variable's value.
/// An unset variable is an error naming the key path (LiteLLM silently yields null).
struct EnvironmentResolver {
    static let prefix = "os.environ/"

    let environment: [String: String]

    func resolve(_ value: JSONValue, at path: String) throws(ConfigError) -> JSONValue {
        switch value {
        case .string(let text):
            guard let name = Self.variableName(text) else { return value }
            guard !name.isEmpty else {
                throw ConfigError(path: path, message: "\"\(text)\" names no environment variable")
            }
            guard let resolved = environment[name] else {
                throw ConfigError(
                    path: path,
                    message: "environment variable \(name) is not set (the value is os.environ/\(name))")
            }
            return .string(resolved)
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                out.append(try resolve(item, at: KeyPath.index(path, i)))
            }
            return .array(out)
        case .object(let members):
            return .object(try resolve(members, at: path))
        default:
            return value
        }
    }

    func resolve(_ members: [JSONMember], at path: String) throws(ConfigError) -> [JSONMember] {
        var out: [JSONMember] = []
        out.reserveCapacity(members.count)
        for member in members {
            out.append(JSONMember(member.key, try resolve(member.value, at: KeyPath.child(path, member.key))))
        }
        return out
    }

    /// `NAME` when `text` is an `os.environ/NAME` reference.
    static func variableName(_ text: String) -> String? {
        let trimmed = text.trimmingSpaces
        guard trimmed.hasPrefix(prefix) else { return nil }
        return String(trimmed.dropFirst(prefix.count))
    }
}
