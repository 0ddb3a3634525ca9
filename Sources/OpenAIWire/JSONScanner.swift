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
    /// from its reader index), found without building anything: the members before it are
    /// skipped, and nothing after it is read (or checked). `nil` when there is no such member
    /// or the object is malformed before it.
    public static func firstMember(_ key: StaticString, in buffer: ByteBuffer) -> Range<Int>? {
        buffer.withUnsafeReadableBytes { bytes -> Range<Int>? in
            let want = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
            var r = JSONReader(bytes)
            r.skipWhitespace()
            guard r.peek() == UInt8(ascii: "{") else { return nil }
            r.index += 1
            while true {
                r.skipWhitespace()
                guard r.peek() == UInt8(ascii: "\"") else { return nil }
                let keyStart = r.index + 1
                guard let escaped = try? r.skipString() else { return nil }
                let keyEnd = r.index - 1
                guard (try? r.expect(UInt8(ascii: ":"), "':'")) != nil else { return nil }
                r.skipWhitespace()
                let valueStart = r.index
                let lead = r.peek() ?? 0
                guard (try? r.skipValue(depth: 1)) != nil else { return nil }
                let member = JSONMemberSpan(
                    keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: r.index, keyEscaped: escaped, valueLead: lead)
                if JSONObjectScan.keyEquals(member, want, bytes) { return valueStart..<r.index }
                r.skipWhitespace()
                guard r.peek() == UInt8(ascii: ",") else { return nil }
                r.index += 1
            }
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
