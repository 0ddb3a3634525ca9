/// A `model_name` with one `*`, such as `*`, `openai/*` or `gpt-4*`.
public struct WildcardPattern: Sendable, Equatable {
    public let text: String
    let prefix: Substring
    let suffix: Substring

    /// `nil` when `text` has no `*`.
    public init?(_ text: String) {
        guard let star = text.firstIndex(of: "*") else { return nil }
        self.text = text
        prefix = text[..<star]
        suffix = text[text.index(after: star)...]
    }

    /// How specific the pattern is: longer literal parts win.
    public var specificity: Int { prefix.count + suffix.count }

    /// The part of `name` the `*` stands for, or `nil` when `name` does not match.
    public func capture(_ name: String) -> Substring? {
        guard name.count >= specificity, name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        return name.dropFirst(prefix.count).dropLast(suffix.count)
    }

    /// `template` with its first `*` replaced by `captured` (for `litellm_params.model: openai/*`).
    public static func expand(_ template: String, with captured: Substring) -> String {
        guard let star = template.firstIndex(of: "*") else { return template }
        return String(template[..<star]) + captured + template[template.index(after: star)...]
    }
}
