import OpenAIWire

/// Reads typed fields out of one mapping of the config, naming key paths in its errors.
/// A key set to `null` (`api_key:` with nothing after it) reads as absent.
struct MappingReader {
    let members: [JSONMember]
    let path: String
    /// Key paths of keys that came from elsewhere (a credential's values), by key.
    var origins: [String: String] = [:]

    init(members: [JSONMember], path: String) {
        self.members = members
        self.path = path
    }

    /// Reads `value` as a mapping; `null` reads as an empty one.
    init(_ value: JSONValue, path: String) throws(ConfigError) {
        self.init(members: value.isNull ? [] : try ValueConversion.mapping(value, at: path), path: path)
    }

    func path(_ key: String) -> String {
        origins[key] ?? KeyPath.child(path, key)
    }

    /// The value of `key`, `nil` when absent or `null`.
    subscript(key: String) -> JSONValue? {
        guard let value = members.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = self[key] else { return nil }
        return try ValueConversion.string(value, at: path(key))
    }

    func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let value = self[key] else {
            throw ConfigError(path: path(key), message: "required key is missing")
        }
        let text = try ValueConversion.string(value, at: path(key))
        guard !text.isEmpty else { throw ConfigError(path: path(key), message: "must not be empty") }
        return text
    }

    func int(_ key: String, minimum: Int? = nil, maximum: Int? = nil) throws(ConfigError) -> Int? {
        guard let value = self[key] else { return nil }
        let number = try ValueConversion.int(value, at: path(key))
        if let minimum, number < minimum {
            throw ConfigError(path: path(key), message: "must be at least \(minimum), got \(number)")
        }
        if let maximum, number > maximum {
            throw ConfigError(path: path(key), message: "must be at most \(maximum), got \(number)")
        }
        return number
    }

    func double(_ key: String, minimum: Double? = nil) throws(ConfigError) -> Double? {
        guard let value = self[key] else { return nil }
        let number = try ValueConversion.double(value, at: path(key))
        if let minimum, number < minimum {
            throw ConfigError(path: path(key), message: "must be at least \(minimum), got \(number)")
        }
        return number
    }

    /// A duration in seconds: a finite number greater than 0.
    func seconds(_ key: String) throws(ConfigError) -> Double? {
        guard let value = self[key] else { return nil }
        let number = try ValueConversion.double(value, at: path(key))
        guard number > 0 else {
            throw ConfigError(path: path(key), message: "must be a number of seconds greater than 0, got \(number)")
        }
        return number
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = self[key] else { return nil }
        return try ValueConversion.bool(value, at: path(key))
    }

    func stringList(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = self[key] else { return nil }
        return try ValueConversion.stringList(value, at: path(key))
    }

    func mapping(_ key: String) throws(ConfigError) -> [JSONMember]? {
        guard let value = self[key] else { return nil }
        return try ValueConversion.mapping(value, at: path(key))
    }

    func reader(_ key: String) throws(ConfigError) -> MappingReader? {
        guard let members = try mapping(key) else { return nil }
        return MappingReader(members: members, path: path(key))
    }

    /// A warning for each key not in `known`.
    func unknownKeys(known: Set<String>, message: String) -> [ConfigWarning] {
        members.filter { !known.contains($0.key) }.map { ConfigWarning(path: path($0.key), message: message) }
    }
}
