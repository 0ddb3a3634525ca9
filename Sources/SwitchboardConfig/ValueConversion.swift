import OpenAIWire

/// Typed reads of single values, lenient the way YAML configs need: numeric strings are numbers,
/// numbers are strings where text is expected, `"true"`/`"True"` are booleans. A value that
/// cannot be read throws a `ConfigError` at `path`, e.g. `expected integer, got "fast"`. Numbers
/// are finite: YAML's `.nan` and `.inf` (and `"nan"`, `"inf"`) are refused.
enum ValueConversion {
    static func string(_ value: JSONValue, at path: String) throws(ConfigError) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        default: throw mismatch("string", value, path)
        }
    }

    static func int(_ value: JSONValue, at path: String) throws(ConfigError) -> Int {
        switch value {
        case .int(let i):
            return i
        case .double(let d) where d.rounded() == d && abs(d) < 9e15:
            return Int(d)
        case .string(let s):
            let text = s.trimmingSpaces
            if let i = Int(text) { return i }
            if let d = Double(text), d.rounded() == d, abs(d) < 9e15 { return Int(d) }
            throw mismatch("integer", value, path)
        default:
            throw mismatch("integer", value, path)
        }
    }

    static func double(_ value: JSONValue, at path: String) throws(ConfigError) -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .double(let d) where d.isFinite: return d
        case .string(let s):
            if let d = Double(s.trimmingSpaces), d.isFinite { return d }
            throw mismatch("number", value, path)
        case .double: throw mismatch("a finite number", value, path)
        default: throw mismatch("number", value, path)
        }
    }

    static func bool(_ value: JSONValue, at path: String) throws(ConfigError) -> Bool {
        switch value {
        case .bool(let b): return b
        case .string(let s) where s.lowercased() == "true": return true
        case .string(let s) where s.lowercased() == "false": return false
        default: throw mismatch("boolean", value, path)
        }
    }

    static func mapping(_ value: JSONValue, at path: String) throws(ConfigError) -> [JSONMember] {
        guard case .object(let members) = value else { throw mismatch("mapping", value, path) }
        return members
    }

    static func list(_ value: JSONValue, at path: String) throws(ConfigError) -> [JSONValue] {
        guard case .array(let items) = value else { throw mismatch("list", value, path) }
        return items
    }

    /// A list of strings; a single string is taken as a list of one.
    static func stringList(_ value: JSONValue, at path: String) throws(ConfigError) -> [String] {
        if case .string(let s) = value { return [s] }
        guard case .array(let items) = value else { throw mismatch("list of strings", value, path) }
        var strings: [String] = []
        for (i, item) in items.enumerated() {
            strings.append(try string(item, at: KeyPath.index(path, i)))
        }
        return strings
    }

    /// The `expected X, got Y` error.
    static func mismatch(_ expected: String, _ value: JSONValue, _ path: String) -> ConfigError {
        ConfigError(path: path, message: "expected \(expected), got \(describe(value))")
    }

    /// A short rendering of `value` for messages: strings quoted, containers by kind.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return JSONValue.string(s).jsonText
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array: return "a list"
        case .object: return "a mapping"
        }
    }

    /// `value` as an environment-variable string, the way Python's `str()` renders YAML scalars.
    static func environmentString(_ value: JSONValue, at path: String) throws(ConfigError) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "True" : "False"
        case .null: return ""
        default: throw mismatch("a scalar value", value, path)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
