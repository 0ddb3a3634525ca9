import Foundation
import NIOCore
import XCTest
@testable import OpenAIWire

/// `writeJSONString` skips clean runs eight bytes at a time: every byte that needs an escape
/// must still be found wherever it sits in a word, and the text must come back unchanged.
final class JSONStringWriterTests: XCTestCase {
    private func encoded(_ text: String) -> String {
        var b = ByteBuffer()
        b.writeJSONString(text)
        return String(buffer: b)
    }

    private func decoded(_ json: String) throws -> String {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        return try XCTUnwrap(value as? String)
    }

    func testEveryEscapeAtEveryOffsetRoundTrips() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "😀"]
        for special in specials {
            for offset in 0..<20 {
                for length in [offset + 1, offset + 9, 24] where length > offset {
                    var chars = Array(repeating: Character("a"), count: length)
                    chars[offset] = special
                    let text = String(chars)
                    let json = encoded(text)
                    XCTAssertEqual(try decoded(json), text, "special \(special.unicodeScalars.first!.value) at \(offset) of \(length): \(json)")
                    XCTAssertFalse(json.dropFirst().dropLast().unicodeScalars.contains { $0.value < 0x20 }, "raw control byte in \(json)")
                }
            }
        }
    }

    func testEscapesAreTheShortForms() {
        XCTAssertEqual(encoded("a\"b\\c\nd\re\tf\u{1}g"), #""a\"b\\c\nd\re\tf\u0001g""#)
        XCTAssertEqual(encoded(""), #""""#)
        XCTAssertEqual(encoded("plain text, no escapes at all"), #""plain text, no escapes at all""#)
    }

    func testRandomTextRoundTrips() throws {
        var g = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", " ", "\"", "\\", "\n", "\u{2}", "é", "中", "😀", "{", "}"]
        for _ in 0..<300 {
            let text = String((0..<Int.random(in: 0..<64, using: &g)).map { _ in alphabet.randomElement(using: &g)! })
            XCTAssertEqual(try decoded(encoded(text)), text)
        }
    }
}
