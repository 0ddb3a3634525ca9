@testable import Callbacks
import Foundation
import NIOCore
import XCTest

/// The callbacks' bounded JSON writer: what it writes must be what `JSONSerialization` reads
/// back, and the formatting it does by hand must match Swift's and Foundation's.
final class JSONOutTests: XCTestCase {
    private func written(_ write: (inout JSONOut) -> Void) -> String {
        var b = ByteBuffer()
        b.writeJSON(bound: 4096, write)
        return String(buffer: b)
    }

    func testStringsAreEscapedAndReadBack() throws {
        let nasty = "a\"b\\c\nd\re\tf\u{01}g\u{1F}h/é😀 long enough to use the eight-byte path"
        let json = written { out in
            out.raw("[")
            out.string(nasty)
            out.raw(",")
            let at = out.count
            out.string("twice \"quoted\"")
            out.raw(",")
            out.again(at..<out.count - 1)
            out.raw("]")
        }
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])
        XCTAssertEqual(parsed, [nasty, "twice \"quoted\"", "twice \"quoted\""])
        XCTAssertTrue(json.contains(#"\u0001"#) && json.contains(#"\u001f"#) && json.contains(#"\n"#))
    }

    func testNumbersTimesAndIdsAreFormattedByHand() {
        XCTAssertEqual(written { $0.decimal(UInt64.max) }, "18446744073709551615")
        XCTAssertEqual(written { $0.decimal(0 as UInt64) }, "0")
        XCTAssertEqual(written { $0.decimal(-42) }, "-42")
        XCTAssertEqual(written { $0.decimal(Int.min) }, String(Int.min))
        // Every digit count, odd and even (digits are written two at a time), at each edge.
        var power: UInt64 = 1
        for _ in 0..<20 {
            for v in [power - 1, power, power + 7, power &* 9 / 10 &+ 3] where v <= UInt64.max {
                XCTAssertEqual(written { $0.decimal(v) }, String(v))
            }
            power = power &* 10
        }
        for v in [0.0, 1.5, 0.000123, 1_764_476_400.123456, 1e-7, -3.25] {
            XCTAssertEqual(written { $0.double(v) }, "\(v)")
        }
        XCTAssertEqual(written { $0.finiteDouble(.infinity) }, "0")
        XCTAssertEqual(written { $0.fixedPoint(1_764_476_400_123_456_789, fractionDigits: 9) }, "1764476400.123456789")
        XCTAssertEqual(written { $0.fixedPoint(1_764_476_400_120_000_000, fractionDigits: 9) }, "1764476400.12")
        XCTAssertEqual(written { $0.fixedPoint(2_000_000_000, fractionDigits: 9) }, "2.0")
        XCTAssertEqual(written { $0.fixedPoint(40_000, fractionDigits: 6) }, "0.04")
        XCTAssertEqual(written { $0.fixedPoint(5, fractionDigits: 9) }, "0.000000005")
        XCTAssertEqual(written { $0.fixedPoint(0, fractionDigits: 6) }, "0.0")
        XCTAssertEqual(Double(written { $0.fixedPoint(1_764_476_400_123_456_789, fractionDigits: 9) }), 1_764_476_400.123456789)
        XCTAssertEqual(written { $0.hex16(0x0123_4567_89AB_CDEF) }, "0123456789abcdef")
        XCTAssertEqual(written { $0.iso8601(unixNanos: 1_709_251_199_123_456_789) }, "2024-02-29T23:59:59.123456Z")
        XCTAssertEqual(written { $0.iso8601(unixNanos: 4_102_444_800_000_001_000) }, "2100-01-01T00:00:00.000001Z")
    }

    func testAnEscapedDocumentIsAJSONStringHoldingTheDocument() throws {
        let json = written { out in
            out.escapedDocument(bound: 256) { doc in
                doc.raw("{\"call_id\":")
                doc.string("id \"1\"")
                doc.raw("}")
            }
        }
        let inner = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed) as? String)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(inner.utf8)) as? [String: String])
        XCTAssertEqual(object, ["call_id": "id \"1\""])
    }

    func testTraceIDsComeFromTheCallIDsBytes() {
        let id = CallSpans.traceBits(callID: "0F8FAD5B-D9CB-469F-A165-70867728950E")
        XCTAssertEqual(id, TraceID(high: 0x0F8F_AD5B_D9CB_469F, low: 0xA165_7086_7728_950E))
        XCTAssertNotEqual(CallSpans.traceBits(callID: "00000000-0000-0000-0000-000000000000"), TraceID(high: 0, low: 0))
        XCTAssertNotEqual(CallSpans.traceBits(callID: "0F8FAD5B-D9CB-469F-A165-70867728950E0"), id)
        // Every hex digit in either case, and the bytes around them that are not digits.
        XCTAssertEqual(
            CallSpans.traceBits(callID: "01234567-89ab-cdef-ABCD-EF0123456789"),
            TraceID(high: 0x0123_4567_89AB_CDEF, low: 0xABCD_EF01_2345_6789))
        XCTAssertEqual(CallSpans.traceBits(callID: "0123456789abcdefABCDEF0123456789"), TraceID(high: 0x0123_4567_89AB_CDEF, low: 0xABCD_EF01_2345_6789))
        for notHex in ["/", ":", "@", "G", "`", "g", "\u{e9}"] {
            let callID = "0f8fad5b-d9cb-469f-a165-70867728950" + notHex
            XCTAssertNotEqual(CallSpans.traceBits(callID: callID), CallSpans.traceBits(callID: callID), "\(notHex): random, not parsed")
        }
    }
}
