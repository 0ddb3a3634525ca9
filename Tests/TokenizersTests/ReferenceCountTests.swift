import Foundation
import XCTest
@testable import Tokenizers

/// Our token ids against the ids the PyPI `tokenizers` and `tiktoken` packages gave for the same
/// files and corpus (`Tests/fixtures/tokenizers/generate.py` wrote both): equal on every input.
final class ReferenceCountTests: XCTestCase {
    struct Expected: Decodable {
        struct Tiktoken: Decodable {
            var pattern: String
            var ids: [[Int]]
        }
        var corpus: [String]
        var tokenizers: [String: [[Int]]]
        var tiktoken: [String: Tiktoken]
    }

    static func fixture(_ name: String) throws -> Data {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return try Data(contentsOf: url)
    }

    static let expected: Expected = try! JSONDecoder().decode(Expected.self, from: fixture("expected.json"))

    func compare(_ tokenizer: any TokenCounting, _ ids: [[Int]], _ name: String) {
        let corpus = Self.expected.corpus
        XCTAssertEqual(ids.count, corpus.count)
        var mismatches = 0
        for (text, want) in zip(corpus, ids) {
            let got = tokenizer.encode(text)
            if got != want {
                mismatches += 1
                XCTFail("\(name): \(text.debugDescription.prefix(120)): got \(got.prefix(40)) want \(want.prefix(40))")
            }
            XCTAssertEqual(tokenizer.count(text), want.count, "\(name) count")
        }
        XCTAssertEqual(mismatches, 0, name)
    }

    func testHuggingFaceTokenizersMatchTheReference() throws {
        XCTAssertEqual(Self.expected.tokenizers.count, 7)
        for (file, ids) in Self.expected.tokenizers.sorted(by: { $0.key < $1.key }) {
            let tokenizer = try HuggingFaceTokenizer(json: Self.fixture(file), source: file)
            compare(tokenizer, ids, file)
        }
    }

    func testTiktokenEncodingsMatchTheReference() throws {
        let ranks = try [UInt8](Self.fixture("ranks.tiktoken"))
        XCTAssertEqual(Set(Self.expected.tiktoken.keys), ["r50k", "cl100k", "o200k"])
        for (name, reference) in Self.expected.tiktoken.sorted(by: { $0.key < $1.key }) {
            let pattern = try XCTUnwrap(PreTokenizerPattern.recognise(reference.pattern), "tiktoken's \(name) pattern is recognised")
            let encoding = try TiktokenEncoding(name: name, rankFile: ranks, pattern: pattern)
            compare(encoding, reference.ids, name)
        }
    }
}
