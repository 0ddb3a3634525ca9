extension RecordedRequest {
    /// The URI's path, without the query.
    public var path: String { String(uri.prefix { $0 != "?" }) }

    /// The URI's query as fields (`+` is a space).
    public var queryFields: [String: String] { Self.formFields(String(uri.drop { $0 != "?" }.dropFirst())) }

    /// The body as `application/x-www-form-urlencoded` fields (`+` is a space).
    public var formFields: [String: String] { Self.formFields(body) }

    /// `name=value&...` (form or query) as fields, percent-decoded, `+` read as a space.
    public static func formFields(_ text: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            form[SigV4Verifier.decode(parts[0].replacing("+", with: " "))] = parts.count > 1 ? SigV4Verifier.decode(parts[1].replacing("+", with: " ")) : ""
        }
        return form
    }
}
