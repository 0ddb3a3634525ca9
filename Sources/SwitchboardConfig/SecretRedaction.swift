import OpenAIWire

/// Removes secrets from configuration values before they are shown (`/model/info`, logs).
public enum SecretRedaction {
    static let secretKeys: Set<String> = [
        "api_key", "azure_ad_token", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
        "aws_web_identity_token", "auth_token", "client_secret", "password", "redis_password", "master_key",
        "vertex_credentials", "token",
    ]
    static let secretSuffixes = ["_api_key", "_secret", "_password", "secret_key"]
    static let headerKeys: Set<String> = ["extra_headers", "headers"]

    /// Whether a key's value is a secret.
    public static func isSecretKey(_ key: String) -> Bool {
        let k = key.lowercased()
        return secretKeys.contains(k) || secretSuffixes.contains(where: { k.hasSuffix($0) })
    }

    /// Whether a header carries a credential.
    public static func isSecretHeader(_ name: String) -> Bool {
        let n = name.lowercased()
        return ["authorization", "proxy-authorization", "api-key", "x-api-key"].contains(n)
            || n.contains("key") || n.contains("token") || n.contains("secret")
    }

    /// `members` without secret keys (recursively); credential headers keep their name with
    /// the value replaced by `<redacted>`.
    public static func redact(_ members: [JSONMember]) -> [JSONMember] {
        members.compactMap { m in
            if isSecretKey(m.key) { return nil }
            if headerKeys.contains(m.key), case .object(let headers) = m.value {
                return JSONMember(m.key, .object(headers.map {
                    isSecretHeader($0.key) ? JSONMember($0.key, .string("<redacted>")) : $0
                }))
            }
            return JSONMember(m.key, redactValue(m.value))
        }
    }

    static func redactValue(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): return .object(redact(members))
        case .array(let items): return .array(items.map(redactValue))
        default: return value
        }
    }
}
