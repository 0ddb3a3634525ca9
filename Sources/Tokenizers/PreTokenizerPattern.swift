/// The pre-tokenizer regexes of the byte-level BPE tokenizers in use, each hand-written as a
/// scanner over UTF-8 with Unicode property checks (a general regex engine is too slow and Swift's
/// `Regex` lacks possessive quantifiers). A scanner follows its regex's leftmost-first alternation
/// and backtracking exactly; `recognise(_:)` maps a pattern string to its scanner and rejects any
/// other pattern, so an unknown one fails at load instead of miscounting.
public enum PreTokenizerPattern: Sendable, Equatable {
    /// GPT-2, r50k_base, p50k_base and Hugging Face's `ByteLevel` pre-tokenizer:
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// cl100k_base (and Llama 3 with `maxDigits` 3, Qwen 2 with 1):
    /// `(?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    /// `endWhitespace`: tiktoken's current form, whose `\s++$` keeps a white-space run at the end
    /// of the text whole.
    case cl100k(maxDigits: Int, endWhitespace: Bool)
    /// o200k_base: cased letter runs with trailing contractions, `\p{N}{1,3}`, `[\r\n/]*` after
    /// punctuation.
    case o200k

    /// The scanner for a known pattern string, else `nil`.
    public static func recognise(_ pattern: String) -> PreTokenizerPattern? {
        known[pattern]
    }

    /// The pattern strings recognised, as tiktoken and Hugging Face files spell them.
    public static let known: [String: PreTokenizerPattern] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"'s|'t|'re|'ve|'m|'ll|'d| ?[\p{L}]+| ?[\p{N}]+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"#: .gpt2,
        #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"#:
            .cl100k(maxDigits: 3, endWhitespace: true),
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            .cl100k(maxDigits: 3, endWhitespace: false),
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
            .cl100k(maxDigits: 1, endWhitespace: false),
        [
            #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
            #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#,
            #"\p{N}{1,3}"#,
            #" ?[^\s\p{L}\p{N}]+[\r\n/]*"#,
            #"\s*[\r\n]+"#,
            #"\s+(?!\S)"#,
            #"\s+"#,
        ].joined(separator: "|"): .o200k,
    ]

    /// Calls `emit(start, end)` for each piece of `bytes[from..<to]` (valid UTF-8), in order;
    /// the pieces cover the range.
    @inline(__always)
    func split(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int, _ emit: (Int, Int) -> Void) {
        let scanner = PatternScanner(cursor: UTF8Cursor(bytes: bytes), end: to)
        var i = from
        while i < to {
            let next: Int
            switch self {
            case .gpt2: next = scanner.gpt2(i)
            case .cl100k(let digits, let endWhitespace): next = scanner.cl100k(i, maxDigits: digits, endWhitespace: endWhitespace)
            case .o200k: next = scanner.o200k(i)
            }
            emit(i, next)
            i = next
        }
    }
}

/// One scan: each method returns where the piece starting at `i` ends.
struct PatternScanner {
    let cursor: UTF8Cursor
    let end: Int

    @inline(__always) func at(_ i: Int) -> (ScalarClass, Int) { cursor.scalar(at: i) }
    @inline(__always) func byte(_ i: Int) -> UInt8 { cursor.bytes[i] }

    /// The end of the run of scalars from `i` whose class passes `test`.
    @inline(__always)
    func run(from i: Int, _ test: (ScalarClass) -> Bool) -> Int {
        var j = i
        while j < end {
            let (c, n) = at(j)
            guard test(c) else { break }
            j += n
        }
        return j
    }

    /// The length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i`, 0 if none.
    /// Case-insensitive matching also takes `ſ` (U+017F) for `s`, as Unicode simple case folding does.
    func contraction(_ i: Int, caseInsensitive: Bool) -> Int {
        guard byte(i) == UInt8(ascii: "'"), i + 1 < end else { return 0 }
        @inline(__always) func letter(_ k: Int) -> UInt8 {
            guard k < end else { return 0 }
            let b = byte(k)
            return caseInsensitive && b >= 65 && b <= 90 ? b + 32 : b
        }
        let a = letter(i + 1)
        switch a {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return letter(i + 2) == UInt8(ascii: "e") ? 3 : 0
        case UInt8(ascii: "l"):
            return letter(i + 2) == UInt8(ascii: "l") ? 3 : 0
        case 0xC5 where caseInsensitive:
            return i + 2 < end && byte(i + 2) == 0xBF ? 3 : 0  // ſ
        default: return 0
        }
    }

    /// A white-space run at `i`: its end, the end of its last `\r`/`\n` (or nil), the start of its
    /// last scalar, and how many scalars it has (at most 2 counted).
    @inline(__always)
    func whitespace(_ i: Int) -> (end: Int, newlineEnd: Int?, lastStart: Int, many: Bool) {
        var j = i
        var newlineEnd: Int?
        var lastStart = i
        var count = 0
        while j < end {
            let (c, n) = at(j)
            guard c.isSpace else { break }
            if c.contains(.newline) { newlineEnd = j + n }
            lastStart = j
            count += 1
            j += n
        }
        return (j, newlineEnd, lastStart, count > 1)
    }

    /// `\s+(?!\S)|\s+` (what is left of every pattern's white-space alternatives).
    @inline(__always)
    func trailingWhitespace(_ i: Int, _ ws: (end: Int, newlineEnd: Int?, lastStart: Int, many: Bool)) -> Int {
        if ws.end == end || !ws.many { return ws.end }
        return ws.lastStart
    }

    // MARK: GPT-2

    func gpt2(_ i: Int) -> Int {
        let k = contraction(i, caseInsensitive: false)
        if k > 0 { return i + k }
        let (c, n) = at(i)
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space joins the run after it.
        var first = c
        var start = i
        if byte(i) == 0x20, i + 1 < end {
            let (c2, _) = at(i + 1)
            if !c2.isSpace {
                first = c2
                start = i + 1
            }
        }
        if first.isLetter { return run(from: start) { $0.isLetter } }
        if first.isNumber { return run(from: start) { $0.isNumber } }
        if first.isOther { return run(from: start) { $0.isOther } }
        guard c.isSpace else { return i + n }
        return trailingWhitespace(i, whitespace(i))
    }

    // MARK: cl100k

    func cl100k(_ i: Int, maxDigits: Int, endWhitespace: Bool) -> Int {
        let k = contraction(i, caseInsensitive: true)
        if k > 0 { return i + k }
        let (c, n) = at(i)
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if c.isLetter { return run(from: i) { $0.isLetter } }
        if c.isPrefix, i + n < end, at(i + n).0.isLetter { return run(from: i + n) { $0.isLetter } }
        // `\p{N}{1,maxDigits}`
        if c.isNumber { return numberRun(i, n, maxDigits: maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = byte(i) == 0x20 && i + 1 < end && at(i + 1).0.isOther ? i + 1 : i
        if start > i || c.isOther {
            let j = run(from: start) { $0.isOther }
            return run(from: j) { $0.contains(.newline) }
        }
        guard c.isSpace else { return i + n }
        let ws = whitespace(i)
        if endWhitespace && ws.end == end { return ws.end }  // `\s++$`
        if let newlineEnd = ws.newlineEnd { return newlineEnd }  // `\s*[\r\n]+`
        return trailingWhitespace(i, ws)
    }

    // MARK: o200k

    func o200k(_ i: Int) -> Int {
        let (c, n) = at(i)
        // The two letter alternatives, first with the optional prefix scalar, then without.
        if c.isPrefix, i + n < end, let j = casedLowerWord(i + n) { return j }
        if let j = casedLowerWord(i) { return j }
        if c.isPrefix, i + n < end, let j = casedUpperWord(i + n) { return j }
        if let j = casedUpperWord(i) { return j }
        // `\p{N}{1,3}`
        if c.isNumber { return numberRun(i, n, maxDigits: 3) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        let start = byte(i) == 0x20 && i + 1 < end && at(i + 1).0.isOther ? i + 1 : i
        if start > i || c.isOther {
            var j = run(from: start) { $0.isOther }
            while j < end, byte(j) == 0x0D || byte(j) == 0x0A || byte(j) == UInt8(ascii: "/") { j += 1 }
            return j
        }
        guard c.isSpace else { return i + n }
        let ws = whitespace(i)
        if let newlineEnd = ws.newlineEnd { return newlineEnd }  // `\s*[\r\n]+`
        return trailingWhitespace(i, ws)
    }

    /// `\p{N}{1,maxDigits}` from the number scalar at `i` (`n` bytes long); the end.
    @inline(__always)
    func numberRun(_ i: Int, _ n: Int, maxDigits: Int) -> Int {
        var j = i + n
        var digits = 1
        while digits < maxDigits, j < end {
            let (d, m) = at(j)
            guard d.isNumber else { break }
            j += m
            digits += 1
        }
        return j
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` then an optional contraction,
    /// from `p`; the end, or nil when it does not match.
    @inline(__always)
    func casedLowerWord(_ p: Int) -> Int? {
        var q = p
        var lastLowerEnd: Int?  // end of the last scalar of the upper run that is also in the lower class
        while q < end {
            let (c, m) = at(q)
            guard !c.isDisjoint(with: .casedUpper) else { break }
            q += m
            if !c.isDisjoint(with: .casedLower) { lastLowerEnd = q }
        }
        var wordEnd: Int
        if q < end, !at(q).0.isDisjoint(with: .casedLower) {
            wordEnd = run(from: q) { !$0.isDisjoint(with: .casedLower) }
        } else if let lastLowerEnd {
            wordEnd = lastLowerEnd
        } else {
            return nil
        }
        if wordEnd < end { wordEnd += contraction(wordEnd, caseInsensitive: true) }
        return wordEnd
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` then an optional contraction.
    @inline(__always)
    func casedUpperWord(_ p: Int) -> Int? {
        let q = run(from: p) { !$0.isDisjoint(with: .casedUpper) }
        guard q > p else { return nil }
        var wordEnd = run(from: q) { !$0.isDisjoint(with: .casedLower) }
        if wordEnd < end { wordEnd += contraction(wordEnd, caseInsensitive: true) }
        return wordEnd
    }
}
