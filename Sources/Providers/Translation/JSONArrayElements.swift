import NIOCore

/// Splits the text of a JSON array into its elements' texts without decoding them (embedding
/// vectors are copied to the client as the provider wrote them).
public enum JSONArrayElements {
    /// The elements of the array that `buffer` holds (surrounding whitespace allowed), as slices;
    /// `nil` when it is not an array. The array is assumed valid JSON (scanned before).
    public static func split(_ buffer: ByteBuffer) -> [ByteBuffer]? {
        let ranges: [Range<Int>]? = buffer.withUnsafeReadableBytes { b in
            var i = 0
            while i < b.count, isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
            i += 1
            var out: [Range<Int>] = []
            var depth = 0
            var start: Int?
            while i < b.count {
                let c = b[i]
                switch c {
                case UInt8(ascii: "\""):
                    if start == nil { start = i }
                    i += 1
                    while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if start == nil { start = i }
                    depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 {
                        if let s = start { out.append(s..<trimEnd(b, s, i)) }
                        return out
                    }
                    depth -= 1
                case UInt8(ascii: ","):
                    if depth == 0 {
                        if let s = start { out.append(s..<trimEnd(b, s, i)) }
                        start = nil
                    }
                default:
                    if start == nil, !isSpace(c) { start = i }
                }
                i += 1
            }
            return nil
        }
        guard let ranges else { return nil }
        return ranges.map { buffer.getSlice(at: buffer.readerIndex + $0.lowerBound, length: $0.count)! }
    }

    /// The first byte of the array's first element, when the array holds one: tells a vector
    /// (`0.1`) from a list of vectors (`[`).
    public static func firstElementLead(_ buffer: ByteBuffer) -> UInt8? {
        buffer.withUnsafeReadableBytes { b in
            var i = 0
            while i < b.count, isSpace(b[i]) { i += 1 }
            guard i < b.count, b[i] == UInt8(ascii: "[") else { return nil }
            i += 1
            while i < b.count, isSpace(b[i]) { i += 1 }
            return i < b.count && b[i] != UInt8(ascii: "]") ? b[i] : nil
        }
    }

    private static func trimEnd(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int {
        var e = end
        while e > start, isSpace(b[e - 1]) { e -= 1 }
        return e
    }

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
}
