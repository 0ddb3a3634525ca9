import OpenAIWire

/// Reads `credential_list` (already resolved): each entry needs `credential_name`,
/// `credential_values` (a mapping) and `credential_info` (a mapping, which may be empty).
enum CredentialParser {
    static func parse(
        _ value: JSONValue, path: String, warnings: inout [ConfigWarning]
    ) throws(ConfigError) -> [Credential] {
        if value.isNull { return [] }
        var credentials: [Credential] = []
        for (i, item) in try ValueConversion.list(value, at: path).enumerated() {
            let entry = try MappingReader(members: ValueConversion.mapping(item, at: KeyPath.index(path, i)),
                                          path: KeyPath.index(path, i))
            warnings += entry.unknownKeys(known: KnownKeys.credentialEntry, message: "unknown credential key, ignored")
            let name = try entry.requiredString("credential_name")
            if credentials.contains(where: { $0.name == name }) {
                throw ConfigError(path: entry.path("credential_name"),
                                  message: "duplicate credential name \(ValueConversion.describe(.string(name)))")
            }
            guard let values = try entry.mapping("credential_values") else {
                throw ConfigError(path: entry.path("credential_values"), message: "required mapping is missing")
            }
            guard let info = try entry.mapping("credential_info") else {
                throw ConfigError(path: entry.path("credential_info"),
                                  message: "required mapping is missing (it may be empty: credential_info: {})")
            }
            credentials.append(Credential(name: name, values: values, info: info))
        }
        return credentials
    }

    /// `params` completed with the credential's values for keys it does not set itself (absent or
    /// null). Returns the merged members and, for each key taken from the credential, its key path.
    static func merge(
        _ params: [JSONMember], credential: Credential, credentialPath: String
    ) -> (members: [JSONMember], origins: [String: String]) {
        var merged = params
        var origins: [String: String] = [:]
        let valuesPath = KeyPath.child(credentialPath, "credential_values")
        for value in credential.values where !value.value.isNull {
            if let i = merged.firstIndex(where: { $0.key == value.key }) {
                guard merged[i].value.isNull else { continue }
                merged[i].value = value.value
            } else {
                merged.append(value)
            }
            origins[value.key] = KeyPath.child(valuesPath, value.key)
        }
        return (merged, origins)
    }
}
