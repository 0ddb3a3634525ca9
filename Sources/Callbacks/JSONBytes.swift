import NIOCore
import OpenAIWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Number, time and hex formatting straight into a buffer, for the callbacks' encoders (no
/// intermediate `String`s, no Foundation).
extension ByteBuffer {
    /// `v` in decimal.
    @inline(__always)
    mutating func writeDecimal(_ v: Int) {
        if v < 0 {
            writeInteger(UInt8(ascii: "-"))
            writeDecimal(UInt64(v.magnitude))
        } else {
            writeDecimal(UInt64(v))
        }
    }

    /// `v` in decimal.
    mutating func writeDecimal(_ v: UInt64) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { out in
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
            return withUnsafeMutableBytes(of: &digits) { scratch in
                var i = 20
                var n = v
                repeat {
                    i -= 1
                    scratch[i] = UInt8(truncatingIfNeeded: 48 &+ n % 10)
                    n /= 10
                } while n > 0
                let count = 20 - i
                out.baseAddress!.copyMemory(from: scratch.baseAddress! + i, byteCount: count)
                return count
            }
        }
    }

    /// `v` as Swift prints it (`"\(v)"`: the shortest digits that read back as `v`).
    @inline(__always)
    mutating func writeDouble(_ v: Double) {
        writeString(v.description)
    }

    /// `v` as 16 lowercase hex digits.
    mutating func writeHex16(_ v: UInt64) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: 16) { out in
            for i in 0..<16 {
                let d = UInt8(truncatingIfNeeded: (v >> UInt64(60 - 4 * i)) & 0xF)
                out[i] = d < 10 ? 48 + d : 87 + d
            }
            return 16
        }
    }

    /// `2026-01-02T03:04:05.123456Z` (microseconds, UTC).
    mutating func writeISO8601(unixNanos: UInt64) {
        let seconds = Int(unixNanos / 1_000_000_000)
        let micros = Int(unixNanos % 1_000_000_000) / 1000
        var days = seconds / 86_400
        let rest = seconds % 86_400
        // Civil from days (Howard Hinnant's algorithm).
        days += 719_468
        let era = days / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        writeWithUnsafeMutableBytes(minimumWritableBytes: 27) { out in
            func put(_ value: Int, _ at: Int, _ width: Int) {
                var v = value
                for k in stride(from: at + width - 1, through: at, by: -1) {
                    out[k] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                }
            }
            put(year, 0, 4); out[4] = UInt8(ascii: "-")
            put(month, 5, 2); out[7] = UInt8(ascii: "-")
            put(day, 8, 2); out[10] = UInt8(ascii: "T")
            put(rest / 3600, 11, 2); out[13] = UInt8(ascii: ":")
            put(rest / 60 % 60, 14, 2); out[16] = UInt8(ascii: ":")
            put(rest % 60, 17, 2); out[19] = UInt8(ascii: ".")
            put(micros, 20, 6); out[26] = UInt8(ascii: "Z")
            return 27
        }
    }

    /// Appends again the `length` bytes written at `start` (a value already escaped once).
    mutating func writeAgain(from start: Int, length: Int) {
        guard length > 0 else { return }
        _ = try? copyBytes(at: start, to: writerIndex, length: length)
        moveWriterIndex(forwardBy: length)
    }

    /// Appends `bytes[range]` of `source` (offsets from its reader index) as a JSON string.
    mutating func writeJSONString(of source: ByteBuffer, _ range: Range<Int>) {
        source.withUnsafeReadableBytes { writeJSONString(bytes: UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Appends `bytes[range]` of `source` (offsets from its reader index) as they are.
    mutating func writeRaw(of source: ByteBuffer, _ range: Range<Int>) {
        _ = source.withUnsafeReadableBytes { writeBytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// `value` as a JSON string, or `null`.
    mutating func writeJSONStringOrNull(_ value: String?) {
        if let value { writeJSONString(value) } else { writeStaticString("null") }
    }

    /// A buffer holding what `write` writes (for fragments computed once).
    static func bytes(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var b = ByteBuffer()
        write(&b)
        return b
    }
}

/// The value of the first top-level member `key` of a scanned JSON object (offsets from the
/// body's reader index).
func firstMember(_ scan: JSONObjectScan?, _ body: ByteBuffer, _ key: StaticString) -> Range<Int>? {
    guard let scan else { return nil }
    return body.withUnsafeReadableBytes { bytes in
        let want = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        for m in scan.members where JSONObjectScan.keyEquals(m, want, bytes) { return m.valueStart..<m.valueEnd }
        return nil
    }
}
