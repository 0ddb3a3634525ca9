import XCTest
import NIOCore
@testable import OpenAIWire

final class JSONScannerTests: XCTestCase {
    func testFindsTopLevelMembersAndDecodesOnlyWhatIsAsked() throws {
        let body = ByteBuffer(string: #" {"model" : "gpt-4o", "messages":[{"role":"user","content":"a \"q\""}], "stream":true, "n":2, "m\u006fdel2": null} "#)
        let scan = try JSONScanner.scanObject(body)
        XCTAssertEqual(scan.members.count, 5)
        XCTAssertEqual(scan.string("model", in: body), "gpt-4o")
        XCTAssertEqual(scan.bool("stream", in: body), true)
        XCTAssertEqual(scan.value("n", in: body), .int(2))
        XCTAssertEqual(scan.key(at: 4, in: body), "model2", "escaped keys are decoded")
        XCTAssertNotNil(scan.index(of: "model2", in: body))
        XCTAssertNil(scan.index(of: "temperature", in: body))
        XCTAssertEqual(scan.value("messages", in: body)?.arrayValue?.first?["content"], .string(#"a "q""#))
    }

    func testLastDuplicateKeyWins() throws {
        let body = ByteBuffer(string: #"{"model":"a","model":"b"}"#)
        XCTAssertEqual(try JSONScanner.scanObject(body).string("model", in: body), "b")
    }

    func testRejectsInvalidDocuments() {
        for bad in ["", "[]", "{", #"{"a":1,}"#, #"{"a":[1,2}"#, #"{"a":"\q"}"#, "{} {}", #"{"a":01}"#, "{\"a\":\"\u{01}\"}"] {
            XCTAssertThrowsError(try JSONScanner.scanObject(ByteBuffer(string: bad)), bad)
        }
    }

    func testErrorBodyShape() throws {
        var out = ByteBuffer()
        OpenAIError.badRequest("bad \"thing\"", param: "model").writeBody(to: &out)
        let json = try JSONValue.parse(String(buffer: out))
        XCTAssertEqual(json["error"]?["message"]?.stringValue, #"bad "thing""#)
        XCTAssertEqual(json["error"]?["type"]?.stringValue, "invalid_request_error")
        XCTAssertEqual(json["error"]?["param"]?.stringValue, "model")
        XCTAssertEqual(json["error"]?["code"]?.stringValue, "400")
    }

    /// The logged answer's `choices`, found without building a scan: escapes, nesting, long
    /// strings (the eight-byte steps), a key that is only a prefix, and what is not JSON.
    func testFirstMemberFindsATopLevelValueWithoutScanning() {
        func member(_ json: String, _ key: StaticString = "choices") -> String? {
            let buffer = ByteBuffer(string: json)
            return JSONScanner.firstMember(key, in: buffer).map { String(decoding: buffer.readableBytesView[$0], as: UTF8.self) }
        }
        let long = String(repeating: "abcdefgh", count: 9)
        XCTAssertEqual(member(#"{"id":"x","choices":[{"message":{"content":"a \"quoted\" ] } \\"}}],"usage":{}}"#),
                       #"[{"message":{"content":"a \"quoted\" ] } \\"}}]"#)
        XCTAssertEqual(member(#" { "meta" : {"choices": 1, "x": ["]"]} , "choices" : [ 1, 2 ] } "#), "[ 1, 2 ]")
        XCTAssertEqual(member(#"{"choicesX":[1],"note":"\#(long)\"\#(long)","choices":[2]}"#), "[2]")
        XCTAssertEqual(member(#"{"created":1700000000,"n":null,"ok":true,"choices":"s"}"#), #""s""#)
        XCTAssertEqual(member(#"{"created":17,"choices":3}"#), "3")
        XCTAssertNil(member(#"{"id":"x"}"#))
        XCTAssertNil(member(#"{"id":"unterminated"#))
        XCTAssertNil(member(#"["choices"]"#))
        XCTAssertNil(member(#"{"choices":[1,2"#))
        XCTAssertNil(member(""))
    }

    func testRawMemberFindsTheFirstKeyByItsBytes() {
        func member(_ json: String, readerOffset: Int = 0) -> String? {
            var buffer = ByteBuffer(string: String(repeating: "#", count: readerOffset) + json)
            buffer.moveReaderIndex(forwardBy: readerOffset)
            // (The range is from the reader index; the view's indices are the buffer's.)
            return JSONScanner.rawMember(#""choices""#, in: buffer).map { r in
                String(decoding: buffer.readableBytesView[(buffer.readerIndex + r.lowerBound)..<(buffer.readerIndex + r.upperBound)], as: UTF8.self)
            }
        }
        // At every offset from the eight-byte steps, and with the reader index moved.
        for pad in 0..<20 {
            let id = String(repeating: "x", count: pad)
            XCTAssertEqual(member(#"{"id":"\#(id)","choices":[{"message":{"content":"]"}}],"usage":{}}"#), #"[{"message":{"content":"]"}}]"#, "pad \(pad)")
            XCTAssertEqual(member(#"{"id":"\#(id)","choices" : 7}"#, readerOffset: pad % 9), "7", "pad \(pad)")
        }
        // In a string the quotes are escaped: not a key.
        XCTAssertEqual(member(#"{"note":"say \"choices\": [9]","choices":[1]}"#), "[1]")
        // A quoted name without a colon is a value, not a key; nothing follows it here.
        XCTAssertNil(member(#"{"a":"choices"}"#))
        XCTAssertNil(member(#"{"chosen":[1],"choice":2}"#))
        XCTAssertNil(member(#"{"choices":[1,2"#))
        XCTAssertNil(member(#""choices""#))
        XCTAssertNil(member(""))
    }
}
