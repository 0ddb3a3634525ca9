import OpenAIWire

/// Removes secrets from configuration values before they are shown (`/model/info`, logs,
/// `check-config`).
public enum SecretRedaction {
    /// What a redacted header value is replaced with.
    public static let placeholder = "<redacted>"

    private static let secretKeys: Set<String> = [
        "api_key", "azure_ad_token", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
        "aws_web_identity_token", "auth_token", "client_secret", "password", "redis_password",
        "master_key", "vertex_credentials", "token", "azure_password", "private_key",
        "access_token", "refresh_token", "id_token", "bearer_token",
    ]
    private static let secretSuffixes = ["_api_key", "_secret", "_password", "secret_key"]
    private static let headerMaps: Set<String> = ["extra_headers", "headers"]
    private static let secretHeaders: Set<String> = ["authorization", "api-key", "x-api-key", "proxy-authorization"]
    private static let secretHeaderWords = ["key", "token", "secret", "password"]

    /// Whether the value of `key` is a secret: `api_key`, `aws_secret_access_key`, `master_key`,
    /// any `*_api_key`, `*_secret`, `*_password`, `*secret_key`... Not `bos_token`, `eos_token`
    /// or `max_tokens`.
    public static func isSecretKey(_ key: String) -> Bool {
        let lower = key.lowercased()
        return secretKeys.contains(lower) || secretSuffixes.contains(where: lower.hasSuffix)
    }

    /// Whether the header `name` carries a credential (`Authorization`, `api-key`, `x-api-key`,
    /// `Proxy-Authorization`, or a name containing "key", "token", "secret" or "password").
    public static func isSecretHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return secretHeaders.contains(lower) || secretHeaderWords.contains(where: lower.contains)
    }

    /// `members` without secret keys, at every depth. `extra_headers` / `headers` mappings keep
    /// their headers, with the values of credential headers replaced by `<redacted>`.
    public static func redact(_ members: [JSONMember]) -> [JSONMember] {
        members.compactMap { member in
            if isSecretKey(member.key) { return nil }
            if headerMaps.contains(member.key.lowercased()), case .object(let headers) = member.value {
                return JSONMember(member.key, .object(headers.map { header in
                    isSecretHeader(header.key) ? JSONMember(header.key, .string(placeholder)) : header
                }))
            }
            return JSONMember(member.key, redact(member.value))
        }
    }

    /// `value` with secret keys removed from every object inside it.
    public static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): return .object(redact(members))
        case .array(let items): return .array(items.map(redact))
        default: return value
        }
    }
}
