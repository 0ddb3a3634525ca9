/// Refuses configuration values that would break the upstream request they are written into:
/// CR or LF would end a header line early and start another (header injection), NUL and other
/// control characters are not allowed in HTTP fields (RFC 9110 §5.5; tab is). Errors name the key
/// path and never echo the value, which is usually a secret.
enum HeaderSafety {
    /// `litellm_params` keys whose values are sent as (or inside) upstream headers, or in the
    /// request line: keys and tokens, organization, API version, AWS credentials and region.
    static let headerParams = [
        "model", "api_key", "organization", "api_version", "azure_ad_token", "aws_access_key_id",
        "aws_secret_access_key", "aws_session_token", "aws_region_name",
    ]

    /// Why `text` cannot be sent in an HTTP header, or `nil` when it can. `what` names the kind of
    /// text in the message ("header values", "header names", "URLs").
    static func problem(_ text: String, what: String = "header values") -> String? {
        var sawLineBreak = false
        var onlyTrailing = true
        for byte in text.utf8 {
            switch byte {
            case 0x0D, 0x0A:
                sawLineBreak = true
            case 0x00:
                return "contains a NUL character, which \(what) cannot hold"
            case 0x09:
                if sawLineBreak { onlyTrailing = false }
            case 0x01..<0x20, 0x7F:
                return "contains the control character 0x\(byte < 16 ? "0" : "")\(String(byte, radix: 16, uppercase: true)), "
                    + "which \(what) cannot hold"
            default:
                if sawLineBreak { onlyTrailing = false }
            }
        }
        guard sawLineBreak else { return nil }
        if onlyTrailing {
            return "ends with a line break (CR or LF), perhaps left from a secret file; \(what) cannot hold "
                + "CR, LF or NUL (they would inject headers upstream): remove it"
        }
        return "contains a line break (CR or LF); \(what) cannot hold CR, LF or NUL (they would inject "
            + "headers upstream)"
    }

    /// Throws when `text` cannot be sent in an HTTP header.
    static func check(_ text: String?, at path: String) throws(ConfigError) {
        guard let text, let problem = problem(text) else { return }
        throw ConfigError(path: path, message: problem)
    }

    /// Throws when `name` holds a control character. (Other invalid names, e.g. with a space, are
    /// skipped with a warning when the gateway starts.)
    static func checkName(_ name: String, at path: String) throws(ConfigError) {
        if let problem = problem(name, what: "header names") {
            throw ConfigError(path: path, message: "the header name " + problem)
        }
    }

    /// Throws when `url` (an `api_base`) holds a control character or a space inside it, which
    /// would break the request line or the `Host` header.
    static func checkURL(_ url: String, at path: String) throws(ConfigError) {
        if let problem = problem(url, what: "URLs") {
            throw ConfigError(path: path, message: problem)
        }
        if url.trimmingSpaces.contains(where: { $0.isWhitespace }) {
            throw ConfigError(path: path, message: "contains a space or tab; percent-encode it (%20)")
        }
    }
}
