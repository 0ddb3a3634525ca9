/// The Unicode classes the known pre-tokenizer patterns test (`\p{L}` and its parts, `\p{N}`,
/// `\p{M}`, `\s`, `[\r\n]`), read from UTF-8 one scalar at a time. ASCII comes from a table;
/// other scalars from the standard library's Unicode properties.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt16

    static let upper = ScalarClass(rawValue: 1 << 0)      // Lu
    static let lower = ScalarClass(rawValue: 1 << 1)      // Ll
    static let title = ScalarClass(rawValue: 1 << 2)      // Lt
    static let modifier = ScalarClass(rawValue: 1 << 3)   // Lm
    static let otherLetter = ScalarClass(rawValue: 1 << 4) // Lo
    static let number = ScalarClass(rawValue: 1 << 5)     // N (Nd, Nl, No)
    static let mark = ScalarClass(rawValue: 1 << 6)       // M (Mn, Mc, Me)
    static let space = ScalarClass(rawValue: 1 << 7)      // \s: White_Space
    static let newline = ScalarClass(rawValue: 1 << 8)    // \r or \n

    static let letter: ScalarClass = [.upper, .lower, .title, .modifier, .otherLetter]
    /// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let casedUpper: ScalarClass = [.upper, .title, .modifier, .otherLetter, .mark]
    /// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let casedLower: ScalarClass = [.lower, .modifier, .otherLetter, .mark]

    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls that are not white space.
    @inline(__always) var isOther: Bool { isDisjoint(with: Self.notOther) }
    /// `[^\r\n\p{L}\p{N}]`.
    @inline(__always) var isPrefix: Bool { isDisjoint(with: Self.notPrefix) }
    @inline(__always) var isLetter: Bool { !isDisjoint(with: Self.letter) }
    @inline(__always) var isNumber: Bool { contains(.number) }
    @inline(__always) var isSpace: Bool { contains(.space) }

    static let notOther: ScalarClass = [.upper, .lower, .title, .modifier, .otherLetter, .number, .space]
    static let notPrefix: ScalarClass = [.upper, .lower, .title, .modifier, .otherLetter, .number, .newline]

    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        if scalar.value < 128 { return ascii[Int(scalar.value)] }
        let p = scalar.properties
        var c: ScalarClass = p.isWhitespace ? .space : []
        switch p.generalCategory {
        case .uppercaseLetter: c.insert(.upper)
        case .lowercaseLetter: c.insert(.lower)
        case .titlecaseLetter: c.insert(.title)
        case .modifierLetter: c.insert(.modifier)
        case .otherLetter: c.insert(.otherLetter)
        case .decimalNumber, .letterNumber, .otherNumber: c.insert(.number)
        case .nonspacingMark, .spacingMark, .enclosingMark: c.insert(.mark)
        default: break
        }
        return c
    }

    static let ascii: [ScalarClass] = (0..<128).map { v in
        let s = Unicode.Scalar(UInt8(v))
        switch s {
        case "\r", "\n": return [.space, .newline]
        case "\t", "\u{0B}", "\u{0C}", " ": return .space
        case "A"..."Z": return .upper
        case "a"..."z": return .lower
        case "0"..."9": return .number
        default: return []
        }
    }
}

/// Reads scalars out of valid UTF-8 (a Swift string's bytes).
struct UTF8Cursor {
    let bytes: UnsafeBufferPointer<UInt8>

    /// The class of the scalar starting at `i` and its length in bytes.
    @inline(__always)
    func scalar(at i: Int) -> (ScalarClass, Int) {
        let b0 = bytes[i]
        if b0 < 0x80 { return (ScalarClass.ascii[Int(b0)], 1) }
        return slowScalar(at: i, b0)
    }

    private func slowScalar(at i: Int, _ b0: UInt8) -> (ScalarClass, Int) {
        var value: UInt32
        let length: Int
        if b0 >= 0xF0 {
            length = 4
            value = UInt32(b0 & 0x07)
        } else if b0 >= 0xE0 {
            length = 3
            value = UInt32(b0 & 0x0F)
        } else {
            length = 2
            value = UInt32(b0 & 0x1F)
        }
        for k in 1..<length { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
        guard let s = Unicode.Scalar(value) else { return ([], length) }
        return (ScalarClass.of(s), length)
    }
}
