import Foundation

/// A byte-level BPE tokenizer read from a Hugging Face `tokenizer.json`, counting as the
/// `tokenizers` package's `encode(text, add_special_tokens=False)` does: added tokens first, then
/// the normalizer (none or NFC), the pre-tokenizer (`ByteLevel`, `Split` with a known pattern, or
/// a `Sequence` of them), then BPE (`merges` as `"a b"` strings or `[a, b]` pairs,
/// `ignore_merges`, `byte_fallback`, `unk_token`/`fuse_unk`). Post-processor templates (a BOS
/// token added by the tokenizer) are not counted. Anything else fails at load, naming the part.
public struct HuggingFaceTokenizer: AppendingTokenizer {
    enum Normalizer: Sendable { case none, nfc }

    enum Step: Sendable {
        case split(PreTokenizerPattern)
        case splitLiteral([UInt8])
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    }

    let specialFirst: AddedTokenMatcher
    let normalizedAdded: AddedTokenMatcher
    let normalizer: Normalizer
    let steps: [Step]
    let model: BytePairModel
    public var kind: TokenizerKind { .huggingFace }

    /// Reads `tokenizer.json`; `source` names it in errors.
    public init(json: Data, source: String) throws(TokenizerError) {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw TokenizerError("\(source): not a JSON object")
            }
            root = object
        } catch let e as TokenizerError {
            throw e
        } catch {
            throw TokenizerError("\(source): not valid JSON (\(error.localizedDescription))")
        }
        normalizer = try Self.normalizer(root["normalizer"], source)
        steps = try Self.steps(root["pre_tokenizer"], source, path: "pre_tokenizer")
        guard steps.contains(where: { if case .byteLevel = $0 { return true } else { return false } }) else {
            throw TokenizerError("\(source): pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizers are supported")
        }
        guard let modelObject = root["model"] as? [String: Any] else { throw TokenizerError("\(source): model is missing") }
        let built = try Self.model(modelObject, source)
        model = built.model
        var first: [AddedTokenMatcher.Token] = []
        var normalized: [AddedTokenMatcher.Token] = []
        for (n, entry) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let content = entry["content"] as? String, let id = (entry["id"] as? NSNumber)?.int32Value else {
                throw TokenizerError("\(source): added_tokens[\(n)] needs content and id")
            }
            let special = (entry["special"] as? Bool) ?? false
            let token = AddedTokenMatcher.Token(
                bytes: Array(content.utf8), id: id, singleWord: (entry["single_word"] as? Bool) ?? false,
                lstrip: (entry["lstrip"] as? Bool) ?? false, rstrip: (entry["rstrip"] as? Bool) ?? false)
            if (entry["normalized"] as? Bool) ?? !special { normalized.append(token) } else { first.append(token) }
        }
        specialFirst = AddedTokenMatcher(first)
        normalizedAdded = AddedTokenMatcher(normalized)
    }

    // MARK: Loading

    private static func normalizer(_ value: Any?, _ source: String) throws(TokenizerError) -> Normalizer {
        guard let value, !(value is NSNull) else { return .none }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError("\(source): normalizer is not an object with a type")
        }
        switch type {
        case "NFC": return .nfc
        case "Sequence":
            let list = (object["normalizers"] as? [Any]) ?? []
            var result = Normalizer.none
            for item in list {
                let n = try normalizer(item, source)
                if case .nfc = n { result = .nfc }
            }
            return result
        default:
            throw TokenizerError("\(source): normalizer \(type) is not supported (none or NFC)")
        }
    }

    private static func steps(_ value: Any?, _ source: String, path: String) throws(TokenizerError) -> [Step] {
        guard let value, !(value is NSNull) else { return [] }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError("\(source): \(path) is not an object with a type")
        }
        switch type {
        case "Sequence":
            var out: [Step] = []
            for (n, item) in ((object["pretokenizers"] as? [Any]) ?? []).enumerated() {
                out += try steps(item, source, path: "\(path).pretokenizers[\(n)]")
            }
            return out
        case "ByteLevel":
            return [.byteLevel(addPrefixSpace: (object["add_prefix_space"] as? Bool) ?? true, useRegex: (object["use_regex"] as? Bool) ?? true)]
        case "Split":
            let behavior = (object["behavior"] as? String) ?? "Isolated"
            let invert = (object["invert"] as? Bool) ?? false
            guard behavior == "Isolated", !invert else {
                throw TokenizerError("\(source): \(path): Split with behavior \(behavior)\(invert ? " inverted" : "") is not supported (Isolated only)")
            }
            let pattern = object["pattern"] as? [String: Any]
            if let regex = pattern?["Regex"] as? String {
                guard let known = PreTokenizerPattern.recognise(regex) else {
                    throw TokenizerError("\(source): \(path): the Split regex \(regex) is not one of the known pre-tokenizer patterns (GPT-2, cl100k/Llama 3, Qwen 2, o200k)")
                }
                return [.split(known)]
            }
            if let literal = pattern?["String"] as? String, !literal.isEmpty { return [.splitLiteral(Array(literal.utf8))] }
            throw TokenizerError("\(source): \(path): Split needs a pattern {\"Regex\": ...} or {\"String\": ...}")
        default:
            throw TokenizerError("\(source): \(path): pre-tokenizer \(type) is not supported (ByteLevel, Split, Sequence)")
        }
    }

    private static func model(_ object: [String: Any], _ source: String) throws(TokenizerError) -> (model: BytePairModel, Void) {
        if let type = object["type"] as? String, type != "BPE" {
            throw TokenizerError("\(source): model.type \(type) is not supported (BPE only)")
        }
        if let prefix = object["continuing_subword_prefix"] as? String, !prefix.isEmpty {
            throw TokenizerError("\(source): model.continuing_subword_prefix is not supported")
        }
        if let suffix = object["end_of_word_suffix"] as? String, !suffix.isEmpty {
            throw TokenizerError("\(source): model.end_of_word_suffix is not supported")
        }
        if let dropout = object["dropout"] as? NSNumber, dropout.doubleValue > 0 {
            throw TokenizerError("\(source): model.dropout makes counts random; it must be null")
        }
        guard let vocab = object["vocab"] as? [String: Any] else { throw TokenizerError("\(source): model.vocab is missing") }
        var idsByToken: [String: Int32] = [:]
        idsByToken.reserveCapacity(vocab.count)
        var table = ByteSequenceTable(capacity: vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.int32Value else { throw TokenizerError("\(source): model.vocab[\(token)] is not an id") }
            idsByToken[token] = id
            if let bytes = ByteLevelAlphabet.bytes(of: token) { table.insert(bytes, value: id) }
        }
        let mergeList = (object["merges"] as? [Any]) ?? []
        var merges = PairMergeTable(capacity: mergeList.count)
        for (rank, item) in mergeList.enumerated() {
            let a: String, b: String
            if let line = item as? String {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw TokenizerError("\(source): model.merges[\(rank)] is not \"a b\"") }
                a = String(parts[0])
                b = String(parts[1])
            } else if let pair = item as? [String], pair.count == 2 {
                a = pair[0]
                b = pair[1]
            } else {
                throw TokenizerError("\(source): model.merges[\(rank)] is neither \"a b\" nor [a, b]")
            }
            guard let ia = idsByToken[a], let ib = idsByToken[b], let merged = idsByToken[a + b] else {
                throw TokenizerError("\(source): model.merges[\(rank)] (\(a) \(b)) uses a token missing from model.vocab")
            }
            merges.insert(ia, ib, rank: Int32(rank), result: merged)
        }
        let byteFallback = (object["byte_fallback"] as? Bool) ?? false
        let unknown = (object["unk_token"] as? String).flatMap { idsByToken[$0] }
        var symbols: [BytePairModel.ByteSymbol] = []
        for b in 0..<256 {
            let character = String(Character(ByteLevelAlphabet.characters[b]))
            if let id = idsByToken[character] {
                symbols.append(.token(id))
                continue
            }
            if byteFallback {
                let fallback = character.utf8.compactMap { idsByToken[String(format: "<0x%02X>", $0)] }
                if fallback.count == character.utf8.count {
                    symbols.append(.fallback(fallback))
                    continue
                }
            }
            if let unknown { symbols.append(.unknown(unknown)) } else { symbols.append(.fallback([])) }
        }
        let model = BytePairModel(
            vocabulary: table, merges: merges, byteSymbols: symbols,
            wholePieceFirst: (object["ignore_merges"] as? Bool) ?? false, fuseUnknown: (object["fuse_unk"] as? Bool) ?? false)
        return (model, ())
    }

    // MARK: Encoding

    func encode(_ text: String, into out: inout [Int32]) {
        var text = text
        var scratch = MergeScratch()
        text.withUTF8 { bytes in
            for part in specialFirst.isEmpty ? [.text(0..<bytes.count)] : specialFirst.split(bytes, 0..<bytes.count) {
                switch part {
                case .token(let id): out.append(id)
                case .text(let range):
                    if case .nfc = normalizer {
                        var normalized = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
                            .precomposedStringWithCanonicalMapping
                        normalized.withUTF8 { encodeNormalized($0, 0..<$0.count, &out, &scratch) }
                    } else {
                        encodeNormalized(bytes, range, &out, &scratch)
                    }
                }
            }
        }
    }

    private func encodeNormalized(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ out: inout [Int32], _ scratch: inout MergeScratch) {
        let parts: [AddedTokenMatcher.Part] = normalizedAdded.isEmpty ? [.text(range)] : normalizedAdded.split(bytes, range)
        for part in parts {
            switch part {
            case .token(let id): out.append(id)
            case .text(let r): preTokenize(steps[...], UnsafeBufferPointer(rebasing: bytes[r]), &out, &scratch)
            }
        }
    }

    /// Runs the pre-tokenizer steps on `piece` and encodes each resulting piece.
    private func preTokenize(_ steps: ArraySlice<Step>, _ piece: UnsafeBufferPointer<UInt8>, _ out: inout [Int32], _ scratch: inout MergeScratch) {
        guard let step = steps.first, piece.count > 0 else {
            if piece.count > 0 { model.encode(UnsafeRawBufferPointer(piece), into: &out, scratch: &scratch) }
            return
        }
        let rest = steps.dropFirst()
        switch step {
        case .split(let pattern):
            pattern.split(piece, from: 0, to: piece.count) { start, end in
                preTokenize(rest, UnsafeBufferPointer(rebasing: piece[start..<end]), &out, &scratch)
            }
        case .splitLiteral(let literal):
            var offset = 0
            var i = 0
            while i + literal.count <= piece.count {
                if piece[i] == literal[0] && (1..<literal.count).allSatisfy({ piece[i + $0] == literal[$0] }) {
                    if i > offset { preTokenize(rest, UnsafeBufferPointer(rebasing: piece[offset..<i]), &out, &scratch) }
                    preTokenize(rest, UnsafeBufferPointer(rebasing: piece[i..<(i + literal.count)]), &out, &scratch)
                    i += literal.count
                    offset = i
                } else {
                    i += 1
                }
            }
            if offset < piece.count { preTokenize(rest, UnsafeBufferPointer(rebasing: piece[offset...]), &out, &scratch) }
        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace && piece[0] != 0x20 {
                let spaced = [0x20] + Array(piece)
                spaced.withUnsafeBufferPointer { byteLevel($0, useRegex: useRegex, rest, &out, &scratch) }
            } else {
                byteLevel(piece, useRegex: useRegex, rest, &out, &scratch)
            }
        }
    }

    private func byteLevel(_ piece: UnsafeBufferPointer<UInt8>, useRegex: Bool, _ rest: ArraySlice<Step>, _ out: inout [Int32], _ scratch: inout MergeScratch) {
        guard useRegex else {
            preTokenize(rest, piece, &out, &scratch)
            return
        }
        PreTokenizerPattern.gpt2.split(piece, from: 0, to: piece.count) { start, end in
            preTokenize(rest, UnsafeBufferPointer(rebasing: piece[start..<end]), &out, &scratch)
        }
    }
}
