import Foundation

/// A tiktoken encoding: a rank file (one `base64(token) rank` per line) and its pre-tokenizer.
/// Counts as `tiktoken`'s `encode(text, disallowed_special=())` does (what LiteLLM calls): special
/// tokens in the text are ordinary text.
public struct TiktokenEncoding: AppendingTokenizer {
    public let name: String
    let pattern: PreTokenizerPattern
    let model: BytePairModel
    public var kind: TokenizerKind { .openAI }
    /// How many tokens the rank file holds.
    public var vocabularySize: Int { model.vocabulary.count }

    /// Builds the encoding from a rank file's text.
    public init(name: String, rankFile: [UInt8], pattern: PreTokenizerPattern) throws(TokenizerError) {
        self.name = name
        self.pattern = pattern
        var table = ByteSequenceTable(capacity: 1 << 10)
        var line = 0
        var start = 0
        let n = rankFile.count
        while start < n {
            var end = start
            while end < n && rankFile[end] != 0x0A { end += 1 }
            line += 1
            var stop = end
            if stop > start && rankFile[stop - 1] == 0x0D { stop -= 1 }
            if stop > start {
                guard let space = rankFile[start..<stop].firstIndex(of: 0x20),
                      let token = Data(base64Encoded: Data(rankFile[start..<space])),
                      let rank = Int32(String(decoding: rankFile[(space + 1)..<stop], as: UTF8.self)), rank >= 0 else {
                    throw TokenizerError("\(name): line \(line) of the rank file is not `base64-token rank`")
                }
                table.insert(token, value: rank)
            }
            start = end + 1
        }
        var bytes: [BytePairModel.ByteSymbol] = []
        for b in 0...255 {
            guard let t = table.lookup([UInt8(b)]) else {
                throw TokenizerError("\(name): the rank file has no token for the byte \(b); every byte needs one")
            }
            bytes.append(.token(t))
        }
        // A pair merges when its concatenation is a token; the merge's rank is that token's rank.
        var merges = PairMergeTable(capacity: table.count)
        table.forEach { token, rank in
            guard token.count > 1 else { return }
            for k in 1..<token.count {
                if let a = table.lookup(UnsafeRawBufferPointer(rebasing: token[0..<k])),
                   let b = table.lookup(UnsafeRawBufferPointer(rebasing: token[k..<token.count])) {
                    merges.insert(a, b, rank: rank, result: rank)
                }
            }
        }
        model = BytePairModel(vocabulary: table, merges: merges, byteSymbols: bytes, wholePieceFirst: true, fuseUnknown: false)
    }

    func encode(_ text: String, into out: inout [Int32]) {
        var text = text
        text.withUTF8 { bytes in
            var scratch = MergeScratch()
            pattern.split(bytes, from: 0, to: bytes.count) { start, end in
                model.encode(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<end])), into: &out, scratch: &scratch)
            }
        }
    }
}

/// The OpenAI encodings Switchboard knows: rank file URL and pre-tokenizer.
public enum OpenAIEncodingName: String, CaseIterable, Sendable {
    case o200k = "o200k_base"
    case cl100k = "cl100k_base"
    case p50k = "p50k_base"
    case r50k = "r50k_base"

    /// Where tiktoken fetches the rank file.
    public var url: String { "https://openaipublic.blob.core.windows.net/encodings/\(rawValue).tiktoken" }

    public var pattern: PreTokenizerPattern {
        switch self {
        case .o200k: return .o200k
        case .cl100k: return .cl100k(maxDigits: 3, endWhitespace: true)
        case .p50k, .r50k: return .gpt2
        }
    }

    /// The encoding of an OpenAI model name as tiktoken's `encoding_for_model` maps it (provider
    /// prefix removed first): the GPT-4o/4.1/5 and o-series families use o200k_base, the rest
    /// cl100k_base; `nil` for a name that is not an OpenAI model.
    public static func forModel(_ model: String) -> OpenAIEncodingName? {
        var name = Substring(model.lowercased())
        for prefix in ["openai/", "azure/", "text-completion-openai/"] where name.hasPrefix(prefix) {
            name = name.dropFirst(prefix.count)
        }
        let o200k = ["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "chatgpt-4o", "o1", "o3", "o4", "gpt-oss", "codex-"]
        if o200k.contains(where: { name.hasPrefix($0) }) { return .o200k }
        let cl100k = ["gpt-4", "gpt-3.5", "gpt-35", "text-embedding-", "davinci-002", "babbage-002"]
        if cl100k.contains(where: { name.hasPrefix($0) }) { return .cl100k }
        if name.hasPrefix("text-davinci-") || name.hasPrefix("code-") { return .p50k }
        return nil
    }
}
