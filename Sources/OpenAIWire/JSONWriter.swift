import NIOCore

extension ByteBuffer {
    /// Appends `text` as a JSON string literal (quoted and escaped).
    @inlinable
    public mutating func writeJSONString(_ text: String) {
        writeInteger(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                let escape: StaticString?
                switch c {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case 0..<0x20: escape = nil
                default: continue
                }
                if runStart < i { writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart..<i]))) }
                if let escape {
                    writeStaticString(escape)
                } else {
                    writeStaticString("\\u00")
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    writeInteger(hex[Int(c >> 4)])
                    writeInteger(hex[Int(c & 0xF)])
                }
                runStart = i + 1
            }
            if runStart < utf8.count { writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))) }
        }
        writeInteger(UInt8(ascii: "\""))
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
