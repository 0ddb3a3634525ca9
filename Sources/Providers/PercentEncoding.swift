import CloudAuth

/// Percent-encoding of URL path segments and query values (RFC 3986 unreserved characters
/// are kept; everything else, `/` included, is encoded).
enum PercentEncoding {
    static func encodeComponent(_ text: String, keepSlash: Bool = false) -> String {
        URLEncoding.encode(text, keepSlash: keepSlash)
    }
}
