import CallModel
import NIOCore
@testable import Providers
import XCTest

/// The binary event stream decoder: hand-built messages, every split point, both CRCs.
final class AWSEventStreamTests: XCTestCase {
    func testCRC32CheckValue() {
        XCTAssertEqual(CRC32.checksum("123456789"), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum(""), 0)
    }

    /// A message laid out byte by byte, as the format describes it.
    static func handBuilt(headers: [(String, String)], payload: String) -> [UInt8] {
        var headerBytes: [UInt8] = []
        for (name, value) in headers {
            headerBytes.append(UInt8(name.utf8.count))
            headerBytes += Array(name.utf8)
            headerBytes.append(7)  // string
            headerBytes += [UInt8(value.utf8.count >> 8), UInt8(value.utf8.count & 0xFF)]
            headerBytes += Array(value.utf8)
        }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let total = UInt32(16 + headerBytes.count + payload.utf8.count)
        var bytes = be(total) + be(UInt32(headerBytes.count))
        bytes += be(CRC32.checksum(bytes))
        bytes += headerBytes + Array(payload.utf8)
        bytes += be(CRC32.checksum(bytes))
        return bytes
    }

    static let messages: [[UInt8]] = [
        handBuilt(headers: [(":event-type", "messageStart"), (":message-type", "event")], payload: #"{"role":"assistant"}"#),
        handBuilt(headers: [(":event-type", "contentBlockDelta")], payload: #"{"delta":{"text":"Hé"}}"#),
        handBuilt(headers: [], payload: ""),
    ]

    func decode(_ wire: [UInt8], cuts: [Int]) throws(UpstreamFailure) -> ([AWSEventStreamMessage], AWSEventStreamDecoder) {
        var decoder = AWSEventStreamDecoder()
        var out: [AWSEventStreamMessage] = []
        var start = 0
        for cut in cuts + [wire.count] where cut >= start {
            try decoder.feed(ByteBuffer(bytes: wire[start..<cut])) { (m: AWSEventStreamMessage) throws(UpstreamFailure) in out.append(m) }
            start = cut
        }
        return (out, decoder)
    }

    func testTheEncoderWritesTheHandBuiltLayout() {
        let message = AWSEventStreamMessage(stringHeaders: [(":event-type", "messageStart"), (":message-type", "event")], payload: #"{"role":"assistant"}"#)
        XCTAssertEqual(Array(buffer: message.encoded()), Self.messages[0])
    }

    func testEveryTwoAndThreeWaySplitDecodesTheSameMessages() throws {
        let wire = Self.messages.flatMap { $0 }
        for a in 0...wire.count {
            let (out, decoder) = try decode(wire, cuts: [a])
            XCTAssertEqual(out.map(\.eventType), ["messageStart", "contentBlockDelta", nil], "cut \(a)")
            XCTAssertEqual(out.map { String(buffer: $0.payload) }, [#"{"role":"assistant"}"#, #"{"delta":{"text":"Hé"}}"#, ""], "cut \(a)")
            XCTAssertEqual(out.first?.messageType, "event")
            XCTAssertFalse(decoder.hasPartialMessage)
        }
        for a in stride(from: 0, through: wire.count, by: 7) {
            for b in stride(from: a, through: wire.count, by: 3) {
                XCTAssertEqual(try decode(wire, cuts: [a, b]).0.count, 3, "cuts \(a) \(b)")
            }
        }
        // One byte at a time.
        XCTAssertEqual(try decode(wire, cuts: Array(0...wire.count)).0.count, 3)
    }

    func testEveryHeaderTypeIsRead() throws {
        let message = AWSEventStreamMessage(headers: [
            .init("t", .bool(true)), .init("f", .bool(false)), .init("b", .byte(-3)), .init("s", .short(300)),
            .init("i", .int(-70000)), .init("l", .long(1 << 40)), .init("by", .bytes([1, 2, 3])), .init("str", .string("x")),
            .init("ts", .timestamp(1_700_000_000_000)), .init("u", .uuid(Array(0..<16))),
        ], payload: ByteBuffer(string: "p"))
        let (out, _) = try decode(Array(buffer: message.encoded()), cuts: [5])
        XCTAssertEqual(out, [message])
    }

    func testAnIncompleteMessageIsHeldAndReported() throws {
        let wire = Self.messages[0]
        let (out, decoder) = try decode(Array(wire.dropLast(3)), cuts: [])
        XCTAssertEqual(out.count, 0)
        XCTAssertTrue(decoder.hasPartialMessage)
    }

    func testACorruptedMessageCRCIsAMalformedStream() {
        var wire = Self.messages[0]
        wire[wire.count - 1] ^= 0x01
        for cut in [0, 5, 12, wire.count - 1] {
            XCTAssertThrowsError(try decode(wire, cuts: [cut]), "cut \(cut)") { error in
                guard case .malformed(let m) = error as? UpstreamFailure else { return XCTFail("\(error)") }
                XCTAssertTrue(m.contains("message CRC"), m)
            }
        }
        var payloadFlipped = Self.messages[1]
        payloadFlipped[payloadFlipped.count - 6] ^= 0x20
        XCTAssertThrowsError(try decode(payloadFlipped, cuts: []))
    }

    func testACorruptedPreludeIsAMalformedStreamBeforeTheRestArrives() {
        var wire = Self.messages[0]
        wire[3] ^= 0x01  // the total length
        XCTAssertThrowsError(try decode(Array(wire.prefix(12)), cuts: [])) { error in
            guard case .malformed(let m) = error as? UpstreamFailure else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("prelude CRC"), m)
        }
    }

    func testAnImpossibleLengthIsRefused() {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        var prelude = be(8) + be(0)
        prelude += be(CRC32.checksum(prelude))
        XCTAssertThrowsError(try decode(prelude, cuts: []))
    }
}
