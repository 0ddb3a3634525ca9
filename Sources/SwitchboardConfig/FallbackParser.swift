import OpenAIWire

/// Reads fallback lists: `[{"zephyr-beta": ["gpt-4o"]}, ...]` → `[FallbackRule]`, in file order.
enum FallbackParser {
    static func rules(_ settings: MappingReader, _ key: String) throws(ConfigError) -> [FallbackRule] {
        guard let value = settings[key] else { return [] }
        let path = settings.path(key)
        var rules: [FallbackRule] = []
        for (i, item) in try ValueConversion.list(value, at: path).enumerated() {
            let itemPath = KeyPath.index(path, i)
            guard case .object(let members) = item, !members.isEmpty else {
                throw ConfigError(
                    path: itemPath,
                    message: "expected a mapping like {\"model-group\": [\"fallback-group\"]}, got \(ValueConversion.describe(item))")
            }
            for member in members {
                let groups = try ValueConversion.stringList(member.value, at: KeyPath.child(itemPath, member.key))
                rules.append(FallbackRule(modelGroup: member.key, fallbacks: groups))
            }
        }
        return rules
    }
}
