/// Something that turns text into tokens: a tiktoken encoding or a Hugging Face tokenizer.
public protocol TokenCounting: Sendable {
    /// The token ids of `text` (special tokens the tokenizer declares are matched first).
    func encode(_ text: String) -> [Int]
    /// How many tokens `text` is.
    func count(_ text: String) -> Int
    /// `openai_tokenizer` or `huggingface_tokenizer` (LiteLLM's names).
    var kind: TokenizerKind { get }
}

/// LiteLLM's tokenizer types, as `/utils/token_counter` reports them.
public enum TokenizerKind: String, Sendable {
    case openAI = "openai_tokenizer"
    case huggingFace = "huggingface_tokenizer"
}

/// A tokenizer that cannot be built from what it was given; the message says what and why.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A tokenizer that appends token ids to a buffer; `encode` and `count` are both built on that one
/// method, so every tokenizer encodes and counts alike.
protocol AppendingTokenizer: TokenCounting {
    /// Appends the token ids of `text` to `out`.
    func encode(_ text: String, into out: inout [Int32])
}

extension AppendingTokenizer {
    public func encode(_ text: String) -> [Int] {
        var out: [Int32] = []
        encode(text, into: &out)
        return out.map(Int.init)
    }

    public func count(_ text: String) -> Int {
        var out: [Int32] = []
        encode(text, into: &out)
        return out.count
    }
}
