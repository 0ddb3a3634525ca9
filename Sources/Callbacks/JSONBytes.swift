import CloudAuth
import NIOCore
import OpenAIWire

/// Writes JSON into memory reserved up front (a region of the batch's buffer, or of a
/// fragment): plain stores and `memcpy`s, none of `ByteBuffer`'s per-write bookkeeping, which
/// dominated encoding when a span was a few hundred small writes. The caller reserves at least
/// the bound it computes for what it writes (``capacity``, checked by `precondition`).
struct JSONOut: ReservedBytesWriter {
    var out: ReservedBytes
    static var writerName: StaticString { "JSONOut" }

    init(reserved: ReservedBytes) {
        out = reserved
    }

    /// Appends again the bytes written at `range` (a value already escaped once).
    mutating func again(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        (base + count).copyMemory(from: base + range.lowerBound, byteCount: range.count)
        count &+= range.count
    }

    /// UTF-8 `bytes` escaped for a JSON string literal, without the quotes (at most 6 bytes a byte).
    mutating func escaped(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        var runStart = 0
        var i = 0
        while i < n {
            if i + 8 <= n, !JSONEscape.mayNeedEscape(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                i += 8
                continue
            }
            let c = bytes[i]
            guard c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 else {
                i += 1
                continue
            }
            raw(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            default:
                raw("\\u00")
                byte(JSONEscape.hexDigit(c >> 4))
                byte(JSONEscape.hexDigit(c & 0xF))
            }
            i += 1
            runStart = i
        }
        raw(UnsafeRawBufferPointer(rebasing: bytes[runStart..<n]))
    }

    mutating func escaped(_ text: String) {
        // The string's own bytes when it has them (no copy of it, so no retain and release).
        if text.utf8.withContiguousStorageIfAvailable({ escaped(UnsafeRawBufferPointer($0)) }) != nil { return }
        var text = text
        text.withUTF8 { escaped(UnsafeRawBufferPointer($0)) }
    }

    /// `text` as a JSON string literal.
    mutating func string(_ text: String) {
        byte(UInt8(ascii: "\""))
        escaped(text)
        byte(UInt8(ascii: "\""))
    }

    /// UTF-8 `bytes` as a JSON string literal.
    mutating func string(bytes: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        escaped(bytes)
        byte(UInt8(ascii: "\""))
    }

    /// `text` as a JSON string literal, or `null`.
    mutating func stringOrNull(_ text: String?) {
        if let text { string(text) } else { raw("null") }
    }

    /// `v` in decimal (at most 20 bytes): its digits counted by comparisons, then written from
    /// the last, two per division (a division's result feeds the next: half the chain of one
    /// digit at a time, which made timestamps the costliest part of a payload).
    mutating func decimal(_ v: UInt64) {
        var digits = 1
        var limit: UInt64 = 10
        while digits < 20, v >= limit {
            digits &+= 1
            limit &*= 10
        }
        digitsBackward(v, count &+ digits, stopAt: count)
        count &+= digits
    }

    /// `"00"` to `"99"`: the two digits of each number below 100.
    private static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// Writes `v`'s last digits backward from `end` down to `start` (zero-padded when `v` has
    /// fewer digits than the room).
    @inline(__always)
    private func digitsBackward(_ v: UInt64, _ end: Int, stopAt start: Int) {
        let pairs = UnsafeRawPointer(Self.digitPairs.utf8Start)
        var n = v
        var at = end
        while at &- start >= 2 {
            let (q, r) = n.quotientAndRemainder(dividingBy: 100)
            at &-= 2
            base.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(r) &* 2, as: UInt16.self), toByteOffset: at, as: UInt16.self)
            n = q
        }
        if at > start { base.storeBytes(of: UInt8(truncatingIfNeeded: 48 &+ n % 10), toByteOffset: start, as: UInt8.self) }
    }

    /// `v` in decimal (at most 20 bytes).
    @inline(__always)
    mutating func decimal(_ v: Int) {
        if v < 0 { byte(UInt8(ascii: "-")) }
        decimal(UInt64(v.magnitude))
    }

    /// `v` as Swift prints it (`"\(v)"`: the shortest digits that read back as `v`; at most 24 bytes).
    mutating func double(_ v: Double) {
        // Zero, a call's cost without prices, is the common value: no `String` made for it.
        if v == 0, v.sign == .plus { return raw("0.0") }
        var text = v.description
        text.withUTF8 { raw(UnsafeRawBufferPointer($0)) }
    }

    /// `v` as Swift prints it, or `0` when not finite.
    mutating func finiteDouble(_ v: Double) {
        if v.isFinite { double(v) } else { byte(UInt8(ascii: "0")) }
    }

    /// `v / 10^fractionDigits` as an exact decimal number (`1764476400.123456789`; trailing zeros
    /// of the fraction dropped, at least one kept: `2.0`), for times counted in integer units
    /// (at most 21 + `fractionDigits` bytes; `fractionDigits` ≤ 18).
    /// (Inlined: `fractionDigits` is a constant at every call, so the divisions by the scale
    /// are multiplications, not `div`s.)
    @inline(__always)
    mutating func fixedPoint(_ v: UInt64, fractionDigits: Int) {
        var scale: UInt64 = 1
        for _ in 0..<fractionDigits { scale &*= 10 }
        decimal(v / scale)
        byte(UInt8(ascii: "."))
        var fraction = v % scale
        var digits = fractionDigits
        while digits > 1, fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        fixed(Int(fraction), digits)
    }

    /// `v` as 16 lowercase hex digits.
    mutating func hex16(_ v: UInt64) {
        for i in 0..<16 {
            byte(JSONEscape.hexDigit(UInt8(truncatingIfNeeded: (v >> UInt64(60 - 4 * i)) & 0xF)))
        }
    }

    /// `2026-01-02T03:04:05.123456Z` (microseconds, UTC; 27 bytes).
    mutating func iso8601(unixNanos: UInt64) {
        let micros = Int(unixNanos % 1_000_000_000) / 1000
        let t = UTCDateTime(unixSeconds: Int(unixNanos / 1_000_000_000))
        fixed(t.year, 4); byte(UInt8(ascii: "-"))
        fixed(t.month, 2); byte(UInt8(ascii: "-"))
        fixed(t.day, 2); byte(UInt8(ascii: "T"))
        fixed(t.hour, 2); byte(UInt8(ascii: ":"))
        fixed(t.minute, 2); byte(UInt8(ascii: ":"))
        fixed(t.second, 2); byte(UInt8(ascii: "."))
        fixed(micros, 6); byte(UInt8(ascii: "Z"))
    }

    /// `value` in `width` decimal digits, zero-padded.
    private mutating func fixed(_ value: Int, _ width: Int) {
        digitsBackward(UInt64(value), count &+ width, stopAt: count)
        count &+= width
    }

    /// Bytes written by `write`, which writes at most `bound` bytes (fragments made once).
    static func bytes(bound: Int, _ write: (inout JSONOut) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bound) { memory, n in
            var w = JSONOut(UnsafeMutableRawBufferPointer(memory))
            write(&w)
            n = w.finish()
        }
    }

    /// Runs `write` with `bound` bytes of scratch memory and copies what it wrote, escaped, as
    /// a JSON string literal (a JSON document carried in a string attribute).
    mutating func escapedDocument(bound: Int, _ write: (inout JSONOut) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: bound, alignment: 8) { memory in
            var w = JSONOut(memory)
            write(&w)
            let n = w.finish()
            byte(UInt8(ascii: "\""))
            escaped(UnsafeRawBufferPointer(rebasing: memory[0..<n]))
            byte(UInt8(ascii: "\""))
        }
    }
}

extension ByteBuffer {
    /// Appends what `write` writes, having reserved `bound` bytes for it (its upper bound).
    mutating func writeJSON(bound: Int, _ write: (inout JSONOut) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { memory in
            var w = JSONOut(memory)
            write(&w)
            return w.finish()
        }
    }
}
