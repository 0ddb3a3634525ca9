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

    /// Keys whose values are URLs that may carry credentials (`api_base`), shown through
    /// `redactURL`.
    private static let urlKeys: Set<String> = ["api_base", "base_url", "aws_bedrock_runtime_endpoint", "redis_url", "database_url"]
    /// Query parameters whose values are shown; every other value is redacted.
    private static let harmlessQueryNames: Set<String> = ["api-version", "api_version"]

    /// `url` safe to show: user-info (`user:password@`) becomes `<redacted>@`, and every query
    /// value becomes `<redacted>` except `api-version` (query strings carry keys, SAS signatures
    /// and tokens under too many names to guess), as does a fragment.
    ///
    /// `https://u:p@h/v1?api-version=2024-02-01&sig=abc` → `https://<redacted>@h/v1?api-version=2024-02-01&sig=<redacted>`
    public static func redactURL(_ url: String) -> String {
        var text = Substring(url)
        var fragment: Substring?
        if let hash = text.firstIndex(of: "#") {
            fragment = text[text.index(after: hash)...]
            text = text[..<hash]
        }
        var query: Substring?
        if let mark = text.firstIndex(of: "?") {
            query = text[text.index(after: mark)...]
            text = text[..<mark]
        }
        var authorityStart = text.startIndex
        if let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") {
            authorityStart = text.index(colon, offsetBy: 3)
        }
        let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
        var out: String
        if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
            out = String(text[..<authorityStart]) + placeholder + String(text[at...])
        } else {
            out = String(text)
        }
        if let query {
            out += "?" + query.split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
                guard let equals = item.firstIndex(of: "=") else { return item.isEmpty ? "" : placeholder }
                let name = item[..<equals]
                if harmlessQueryNames.contains(name.lowercased()) { return String(item) }
                return name + "=" + placeholder
            }.joined(separator: "&")
        }
        if let fragment, !fragment.isEmpty { out += "#" + placeholder }
        return out
    }

    /// `members` without secret keys, at every depth. `extra_headers` / `headers` mappings keep
    /// their headers, with the values of credential headers replaced by `<redacted>`. URLs
    /// (`api_base`, ...) are shown through `redactURL`.
    public static func redact(_ members: [JSONMember]) -> [JSONMember] {
        members.compactMap { member in
            if isSecretKey(member.key) { return nil }
            if urlKeys.contains(member.key.lowercased()), case .string(let url) = member.value {
                return JSONMember(member.key, .string(redactURL(url)))
            }
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
