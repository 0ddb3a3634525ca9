/// Tokens of one call: from the upstream's `usage`, or estimated when it gave none.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// True when the numbers are an estimate (about four bytes a token), not the upstream's count.
    public var estimated: Bool

    public init(promptTokens: Int, completionTokens: Int, estimated: Bool = false) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.estimated = estimated
    }

    public var totalTokens: Int { promptTokens + completionTokens }

    /// The rough estimate used when an upstream reports no usage: four bytes a token.
    public static func estimate(promptBytes: Int, completionBytes: Int) -> TokenUsage {
        TokenUsage(promptTokens: max(1, promptBytes / 4), completionTokens: completionBytes / 4, estimated: true)
    }
}
