import XCTest
@testable import Tokenizers

final class PreTokenizerPatternTests: XCTestCase {
    func testUnknownPatternIsNotRecognised() {
        XCTAssertNil(PreTokenizerPattern.recognise(#"\w+|\s+"#))
    }
}
