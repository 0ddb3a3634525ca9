/// Finds a tokenizer's added tokens (`added_tokens` of `tokenizer.json`) in text before it is
/// pre-tokenized, as Hugging Face `tokenizers` does: leftmost-longest, non-overlapping matches;
/// `single_word` matches only between non-word characters; `lstrip`/`rstrip` take the white space
/// on their side into the token.
struct AddedTokenMatcher: Sendable {
    struct Token: Sendable {
        var bytes: [UInt8]
        var id: Int32
        var singleWord: Bool
        var lstrip: Bool
        var rstrip: Bool
    }

    /// Tokens by their first byte, longest first.
    private let byFirstByte: [[Token]]
    let isEmpty: Bool

    init(_ tokens: [Token]) {
        var buckets = [[Token]](repeating: [], count: 256)
        for t in tokens where !t.bytes.isEmpty { buckets[Int(t.bytes[0])].append(t) }
        for i in 0..<256 { buckets[i].sort { $0.bytes.count > $1.bytes.count } }
        byFirstByte = buckets
        isEmpty = tokens.isEmpty
    }

    /// A part of the text: plain text (a byte range) or an added token.
    enum Part: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Splits `bytes[range]` into text and added tokens.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Part] {
        var parts: [Part] = []
        var offset = range.lowerBound
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            guard let token = longestMatch(bytes, at: i, end: end) else {
                i += 1
                continue
            }
            var start = i
            var stop = i + token.bytes.count
            i = stop
            if token.singleWord {
                let before = start == range.lowerBound || !Self.isWordScalar(endingAt: start, bytes, from: range.lowerBound)
                let after = stop == end || !Self.isWordScalar(startingAt: stop, bytes, end: end)
                if !before || !after { continue }
            }
            if token.lstrip {
                var s = start
                while s > offset, let w = Self.whitespace(endingAt: s, bytes, from: offset) { s -= w }
                start = s
            }
            if token.rstrip {
                while stop < end, let w = Self.whitespace(startingAt: stop, bytes, end: end) { stop += w }
                i = stop
            }
            if start > offset { parts.append(.text(offset..<start)) }
            parts.append(.token(token.id))
            offset = stop
        }
        if offset < end { parts.append(.text(offset..<end)) }
        return parts
    }

    private func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> Token? {
        let candidates = byFirstByte[Int(bytes[i])]
        guard !candidates.isEmpty else { return nil }
        outer: for t in candidates where i + t.bytes.count <= end {
            for k in 1..<t.bytes.count where bytes[i + k] != t.bytes[k] { continue outer }
            return t
        }
        return nil
    }

    // MARK: Scalars around a match

    private static func scalar(startingAt i: Int, _ bytes: UnsafeBufferPointer<UInt8>, end: Int) -> (Unicode.Scalar, Int)? {
        guard i < end else { return nil }
        var it = UnsafeBufferPointer(rebasing: bytes[i..<end]).makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let s) = decoder.decode(&it) else { return nil }
        return (s, UTF8.width(s))
    }

    private static func scalar(endingAt i: Int, _ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (Unicode.Scalar, Int)? {
        var s = i - 1
        while s > from && bytes[s] & 0xC0 == 0x80 { s -= 1 }
        guard s >= from else { return nil }
        return scalar(startingAt: s, bytes, end: i)
    }

    private static func whitespace(startingAt i: Int, _ bytes: UnsafeBufferPointer<UInt8>, end: Int) -> Int? {
        guard let (s, n) = scalar(startingAt: i, bytes, end: end), s.properties.isWhitespace else { return nil }
        return n
    }

    private static func whitespace(endingAt i: Int, _ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let (s, n) = scalar(endingAt: i, bytes, from: from), s.properties.isWhitespace else { return nil }
        return n
    }

    /// A word character for `single_word`: Unicode `\w` as the `regex` crate `tokenizers` uses
    /// defines it (Alphabetic, marks, decimal digits, connector punctuation, joiners), so `²` is not
    /// one.
    private static func isWord(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    private static func isWordScalar(startingAt i: Int, _ bytes: UnsafeBufferPointer<UInt8>, end: Int) -> Bool {
        scalar(startingAt: i, bytes, end: end).map { isWord($0.0) } ?? false
    }

    private static func isWordScalar(endingAt i: Int, _ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Bool {
        scalar(endingAt: i, bytes, from: from).map { isWord($0.0) } ?? false
    }
}
