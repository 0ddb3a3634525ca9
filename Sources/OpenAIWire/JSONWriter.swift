import NIOCore

extension ByteBuffer {
    /// Appends `text` as a JSON string literal (quoted and escaped).
    @inlinable
    public mutating func writeJSONString(_ text: String) {
        var text = text
        text.withUTF8 { writeJSONString(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Appends UTF-8 `bytes` as a JSON string literal (quoted and escaped). Runs that need no
    /// escape are found eight bytes at a time and copied whole.
    public mutating func writeJSONString(bytes: UnsafeRawBufferPointer) {
        reserveCapacity(minimumWritableBytes: bytes.count + 2)
        writeInteger(UInt8(ascii: "\""))
        writeJSONEscaped(bytes: bytes)
        writeInteger(UInt8(ascii: "\""))
    }

    /// Appends `text` escaped for a JSON string literal, without the quotes (to continue a
    /// literal begun with other text).
    @inlinable
    public mutating func writeJSONEscaped(_ text: String) {
        var text = text
        text.withUTF8 { writeJSONEscaped(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Appends UTF-8 `bytes` escaped for a JSON string literal, without the quotes.
    public mutating func writeJSONEscaped(bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        var runStart = 0
        var i = 0
        while i < n {
            if i + 8 <= n, !JSONEscape.mayNeedEscape(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                i += 8
                continue
            }
            let c = bytes[i]
            let escape: StaticString?
            switch c {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0..<0x20: escape = nil
            default:
                i += 1
                continue
            }
            if runStart < i { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            if let escape {
                writeStaticString(escape)
            } else {
                writeStaticString("\\u00")
                writeInteger(JSONEscape.hexDigit(c >> 4))
                writeInteger(JSONEscape.hexDigit(c & 0xF))
            }
            i += 1
            runStart = i
        }
        if runStart < n { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<n])) }
    }


    /// Appends `value` serialized as compact JSON.
    public mutating func writeJSON(_ value: JSONValue) {
        switch value {
        case .null: writeStaticString("null")
        case .bool(let b): writeStaticString(b ? "true" : "false")
        case .int(let i): writeString(String(i))
        case .double(let d):
            if d.isFinite {
                if d.rounded() == d, abs(d) < 1e15 { writeString(String(Int(d))); writeStaticString(".0") }
                else { writeString(String(d)) }
            } else {
                writeStaticString("null")
            }
        case .string(let s): writeJSONString(s)
        case .array(let items):
            writeInteger(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { writeInteger(UInt8(ascii: ",")) }
                writeJSON(item)
            }
            writeInteger(UInt8(ascii: "]"))
        case .object(let members):
            writeInteger(UInt8(ascii: "{"))
            for (n, m) in members.enumerated() {
                if n > 0 { writeInteger(UInt8(ascii: ",")) }
                writeJSONString(m.key)
                writeInteger(UInt8(ascii: ":"))
                writeJSON(m.value)
            }
            writeInteger(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// The compact JSON text of this value.
    public var jsonText: String {
        var buffer = ByteBuffer()
        buffer.writeJSON(self)
        return String(buffer: buffer)
    }
}

/// What every JSON string writer shares: finding the bytes that need an escape.
public enum JSONEscape {
    /// Whether any of the eight bytes in `v` is `"`, `\\` or a control character (may answer
    /// yes for a word that needs nothing; never no for one that does).
    @inlinable @inline(__always)
    public static func mayNeedEscape(_ v: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = v ^ (ones &* 0x22)
        let backslash = v ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & high
        let hasBackslash = (backslash &- ones) & ~backslash & high
        let hasControl = (v &- ones &* 0x20) & ~v & high
        return (hasQuote | hasBackslash | hasControl) != 0
    }

    /// The lowercase hex digit of `v` (0...15).
    @inlinable @inline(__always)
    public static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }
}
