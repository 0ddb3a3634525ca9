import NIOCore

/// The location of one top-level member of a JSON object inside a byte buffer.
/// Offsets are relative to the buffer's reader index.
public struct JSONMemberSpan: Sendable, Equatable {
    /// Key bytes, without the quotes (still escaped when ``keyEscaped``).
    public var keyStart: Int
    public var keyEnd: Int
    /// Value bytes, exactly as written.
    public var valueStart: Int
    public var valueEnd: Int
    public var keyEscaped: Bool
    /// The first byte of the value (`"`, `{`, `[`, `t`, `f`, `n`, digit or `-`).
    public var valueLead: UInt8
}

/// Finds the top-level members of a JSON object without building values.
///
/// The whole document is validated, so a body that scans is valid JSON; only the parts a
/// caller asks for are decoded later.
///
/// ```swift
/// let scan = try JSONScanner.scanObject(body)
/// let model = scan.string(for: "model", in: body)
/// ```
public enum JSONScanner {
    /// Scans `buffer` (a complete JSON document that must be an object).
    public static func scanObject(_ buffer: ByteBuffer) throws(JSONSyntaxError) -> JSONObjectScan {
        var members: [JSONMemberSpan] = []
        members.reserveCapacity(16)
        let result: JSONSyntaxError? = buffer.withUnsafeReadableBytes { bytes in
            var r = JSONReader(bytes)
            r.skipWhitespace()
            guard r.peek() == UInt8(ascii: "{") else { return r.error("the body must be a JSON object") }
            r.index += 1
            r.skipWhitespace()
            if r.peek() == UInt8(ascii: "}") {
                r.index += 1
            } else {
                while true {
                    r.skipWhitespace()
                    guard r.peek() == UInt8(ascii: "\"") else { return r.error("expected a string key") }
                    let keyStart = r.index + 1
                    let escaped: Bool
                    do throws(JSONSyntaxError) { escaped = try r.skipString() } catch { return error }
                    let keyEnd = r.index - 1
                    do throws(JSONSyntaxError) { try r.expect(UInt8(ascii: ":"), "':'") } catch { return error }
                    r.skipWhitespace()
                    let valueStart = r.index
                    let lead = r.peek() ?? 0
                    do throws(JSONSyntaxError) { try r.skipValue(depth: 1) } catch { return error }
                    members.append(JSONMemberSpan(
                        keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: r.index,
                        keyEscaped: escaped, valueLead: lead))
                    r.skipWhitespace()
                    guard let c = r.peek() else { return r.error("unterminated object") }
                    r.index += 1
                    if c == UInt8(ascii: "}") { break }
                    guard c == UInt8(ascii: ",") else { r.index -= 1; return r.error("expected ',' or '}'") }
                }
            }
            r.skipWhitespace()
            return r.atEnd ? nil : r.error("trailing characters after the document")
        }
        if let result { throw result }
        return JSONObjectScan(members: members)
    }

    /// The value of the first top-level member `key` of the JSON object in `buffer` (offsets
    /// from its reader index), found without building or checking anything: strings are
    /// skipped eight bytes at a time to their closing quote, nesting is counted, and nothing
    /// after the member is read. For a document already known to be JSON (an upstream's
    /// answer, when a callback logs it); `nil` when there is no such member, and any answer
    /// at all (never a read out of bounds) for one that is not JSON.
    public static func firstMember(_ key: StaticString, in buffer: ByteBuffer) -> Range<Int>? {
        buffer.withUnsafeReadableBytes { b -> Range<Int>? in
            let want = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            var i = FastSkip.space(b, 0)
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            while true {
                i = FastSkip.space(b, i)
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
                let keyStart = i + 1
                guard let afterKey = FastSkip.string(b, keyStart) else { return nil }
                let keyEnd = afterKey - 1
                i = FastSkip.space(b, afterKey)
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                let valueStart = FastSkip.space(b, i + 1)
                guard let valueEnd = FastSkip.value(b, valueStart) else { return nil }
                if keyEnd - keyStart == want.count, memcmp(b.baseAddress! + keyStart, want.baseAddress!, want.count) == 0 {
                    return valueStart..<valueEnd
                }
                i = FastSkip.space(b, valueEnd)
                guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
    }
}

extension JSONScanner {
    /// The value of the first `quotedKey` (`"choices"`, with its quotes) followed by `:` in
    /// `buffer` (offsets from its reader index), found by a raw byte search (``FastSkip/find(_:in:)``) rather
    /// than by skipping the members before it: a quoted name followed by a colon can only be a
    /// key, since quotes inside JSON strings are escaped (as ``UsageFinder`` finds `usage`).
    /// For a document already known to be JSON whose member comes before any nested object
    /// holding the same key (an upstream's answer and its `choices`); `nil` when there is no
    /// such key or what follows is not a value.
    public static func rawMember(_ quotedKey: StaticString, in buffer: ByteBuffer) -> Range<Int>? {
        buffer.withUnsafeReadableBytes { b -> Range<Int>? in
            let key = UnsafeRawBufferPointer(start: quotedKey.utf8Start, count: quotedKey.utf8CodeUnitCount)
            guard let found = FastSkip.find(key, in: b) else { return nil }
            var i = FastSkip.space(b, found + key.count)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i = FastSkip.space(b, i + 1)
            guard let end = FastSkip.value(b, i) else { return nil }
            return i..<end
        }
    }
}

/// The result of ``JSONScanner/scanObject(_:)``: member spans plus typed accessors.
public struct JSONObjectScan: Sendable {
    public var members: [JSONMemberSpan]

    /// The index of the last member whose key is `key` (JSON's "last one wins").
    public func index(of key: StaticString, in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            let want = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            var i = members.count - 1
            while i >= 0 {
                let m = members[i]
                if Self.keyEquals(m, want, bytes) { return i }
                i -= 1
            }
            return nil
        }
    }

    /// Whether the member's key equals `name` (for keys chosen at run time).
    public func key(at i: Int, equals name: String, in buffer: ByteBuffer) -> Bool {
        var name = name
        return name.withUTF8 { want in
            buffer.withUnsafeReadableBytes { Self.keyEquals(members[i], UnsafeRawBufferPointer(want), $0) }
        }
    }

    @inline(__always)
    public static func keyEquals(_ m: JSONMemberSpan, _ want: UnsafeRawBufferPointer, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if m.keyEscaped {
            let key = JSONReader.unescape(UnsafeRawBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd]))
            return key.utf8.elementsEqual(want)
        }
        guard m.keyEnd - m.keyStart == want.count else { return false }
        return memcmp(bytes.baseAddress! + m.keyStart, want.baseAddress!, want.count) == 0
    }

    /// The decoded key of member `i`.
    public func key(at i: Int, in buffer: ByteBuffer) -> String {
        let m = members[i]
        return buffer.withUnsafeReadableBytes { bytes in
            let raw = UnsafeRawBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd])
            return m.keyEscaped ? JSONReader.unescape(raw) : String(decoding: raw, as: UTF8.self)
        }
    }

    /// The string value of `key`, or `nil` when absent or not a string.
    public func string(_ key: StaticString, in buffer: ByteBuffer) -> String? {
        guard let i = index(of: key, in: buffer), members[i].valueLead == UInt8(ascii: "\"") else { return nil }
        return value(at: i, in: buffer).stringValue
    }

    /// The boolean value of `key`, or `nil` when absent or not a boolean.
    public func bool(_ key: StaticString, in buffer: ByteBuffer) -> Bool? {
        guard let i = index(of: key, in: buffer) else { return nil }
        switch members[i].valueLead {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }

    /// The decoded value of member `i`.
    public func value(at i: Int, in buffer: ByteBuffer) -> JSONValue {
        let m = members[i]
        return buffer.withUnsafeReadableBytes { bytes in
            var r = JSONReader(UnsafeRawBufferPointer(rebasing: bytes[m.valueStart..<m.valueEnd]))
            return (try? r.readValue()) ?? .null
        }
    }

    /// The decoded value of `key`, or `nil` when absent.
    public func value(_ key: StaticString, in buffer: ByteBuffer) -> JSONValue? {
        index(of: key, in: buffer).map { value(at: $0, in: buffer) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Skipping through JSON known to be well formed, fast: no validation, bounds always checked.
public enum FastSkip {
    /// The first index of `needle` (two bytes or more) in `b`: eight positions at a time, the
    /// ones where its first two bytes start, each then compared whole.
    public static func find(_ needle: UnsafeRawBufferPointer, in b: UnsafeRawBufferPointer) -> Int? {
        let n = needle.count
        guard n >= 2, b.count >= n, let base = b.baseAddress, let key = needle.baseAddress else { return nil }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let first = ones &* UInt64(needle[0])
        let second = ones &* UInt64(needle[1])
        let last = b.count - n
        var i = 0
        // Bytes i..<i+9 are read: the eight starts and the byte after each.
        while i + 9 <= b.count, i <= last {
            let x = b.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ first
            let y = b.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self) ^ second
            // A zero byte in both (the lowest flag is exact; higher ones may be false, and the
            // comparison drops them).
            var hits = (x &- ones) & ~x & (y &- ones) & ~y & high
            while hits != 0 {
                let at = i + UInt64(littleEndian: hits).trailingZeroBitCount / 8
                if at <= last, memcmp(base + at, key, n) == 0 { return at }
                hits &= hits &- 1
            }
            i += 8
        }
        while i <= last {
            if b[i] == needle[0], memcmp(base + i, key, n) == 0 { return i }
            i += 1
        }
        return nil
    }

    /// The index of the first byte at or after `i` that is not JSON whitespace.
    @inlinable
    public static func space(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var i = i
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// From just after an opening quote to just after the closing one.
    static func string(_ b: UnsafeRawBufferPointer, _ from: Int) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        var i = from
        while i < b.count {
            if i + 8 <= b.count {
                let v = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let quote = v ^ (ones &* 0x22)
                let backslash = v ^ (ones &* 0x5C)
                let found = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & high
                if found == 0 {
                    i += 8
                    continue
                }
                // The first quote or backslash (little-endian: the lowest flagged byte).
                i += UInt64(littleEndian: found).trailingZeroBitCount / 8
            }
            let c = b[i]
            if c == UInt8(ascii: "\"") { return i + 1 }
            i += c == UInt8(ascii: "\\") ? 2 : 1
        }
        return nil
    }

    /// From a value's first byte to just after it.
    static func value(_ b: UnsafeRawBufferPointer, _ from: Int) -> Int? {
        var depth = 0
        var i = from
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""):
                guard let end = string(b, i + 1) else { return nil }
                if depth == 0 { return end }
                i = end
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return i }
                depth -= 1
                if depth == 0 { return i + 1 }
            case UInt8(ascii: ","), 0x20, 0x0A, 0x0D, 0x09:
                if depth == 0 { return i }
            default:
                break
            }
            i += 1
        }
        return depth == 0 ? i : nil
    }
}
