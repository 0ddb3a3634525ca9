import XCTest
import NIOCore
@testable import OpenAIWire

final class JSONValueTests: XCTestCase {
    func testParseAndWriteRoundTrip() throws {
        let text = #"{"a":1,"b":[true,false,null],"c":"x\"y\n\u00e9\ud83d\ude00","d":-2.5e3,"e":{}}"#
        let value = try JSONValue.parse(text)
        XCTAssertEqual(value["a"], .int(1))
        XCTAssertEqual(value["c"], .string("x\"y\né😀"))
        XCTAssertEqual(value["d"]?.doubleValue, -2500)
        let again = try JSONValue.parse(value.jsonText)
        XCTAssertEqual(again, value)
    }

    func testRejectsMalformed() {
        for bad in ["", "{", #"{"a":}"#, "[1,]", #"{"a":1} x"#, "01", #""\x""#, "tru", #"{"a" 1}"#] {
            XCTAssertThrowsError(try JSONValue.parse(bad), "accepted \(bad)")
        }
    }
}
