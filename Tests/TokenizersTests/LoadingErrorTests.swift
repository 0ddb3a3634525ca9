import Foundation
import Synchronization
import XCTest
@testable import Tokenizers

/// What cannot be counted exactly fails at load with a message naming the part.
final class LoadingErrorTests: XCTestCase {
    func fixtureJSON(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: ReferenceCountTests.fixture(name)) as! [String: Any]
    }

    func load(_ object: [String: Any]) -> String? {
        do {
            _ = try HuggingFaceTokenizer(json: JSONSerialization.data(withJSONObject: object), source: "t.json")
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testUnknownPartsOfTokenizerJSONAreRefused() throws {
        var json = try fixtureJSON("hf-llama3.json")
        var pre = json["pre_tokenizer"] as! [String: Any]
        var steps = pre["pretokenizers"] as! [[String: Any]]
        steps[0]["pattern"] = ["Regex": #"\w+|[^\w\s]+"#]
        pre["pretokenizers"] = steps
        json["pre_tokenizer"] = pre
        let unknownRegex = try XCTUnwrap(load(json))
        XCTAssertTrue(unknownRegex.contains(#"t.json: pre_tokenizer.pretokenizers[0]: the Split regex \w+|[^\w\s]+ is not one of the known"#), unknownRegex)

        var metaspace = try fixtureJSON("hf-gpt2.json")
        metaspace["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"]
        XCTAssertEqual(load(metaspace), "t.json: pre_tokenizer: pre-tokenizer Metaspace is not supported (ByteLevel, Split, Sequence)")

        var wordPiece = try fixtureJSON("hf-gpt2.json")
        var model = wordPiece["model"] as! [String: Any]
        model["type"] = "WordPiece"
        wordPiece["model"] = model
        XCTAssertEqual(load(wordPiece), "t.json: model.type WordPiece is not supported (BPE only)")

        var badMerge = try fixtureJSON("hf-gpt2.json")
        model = badMerge["model"] as! [String: Any]
        model["merges"] = [["zz-not-a-token", "e"]]
        badMerge["model"] = model
        XCTAssertEqual(load(badMerge), "t.json: model.merges[0] (zz-not-a-token e) uses a token missing from model.vocab")

        var lowercase = try fixtureJSON("hf-gpt2.json")
        lowercase["normalizer"] = ["type": "Lowercase"]
        XCTAssertEqual(load(lowercase), "t.json: normalizer Lowercase is not supported (none or NFC)")
    }

    func testEveryKnownPatternIsRecognisedAndOthersAreNot() {
        XCTAssertEqual(PreTokenizerPattern.known.count, 7)
        for encoding in OpenAIEncodingName.allCases {
            XCTAssertTrue(PreTokenizerPattern.known.values.contains(encoding.pattern), encoding.rawValue)
        }
        XCTAssertNil(PreTokenizerPattern.recognise(#"\s+"#))
    }

    func testRankFileErrors() {
        XCTAssertThrowsError(try TiktokenEncoding(name: "t", rankFile: Array("IQ== 0\nnot-a-line\n".utf8), pattern: .gpt2)) { error in
            XCTAssertEqual("\(error)", "t: line 2 of the rank file is not `base64-token rank`")
        }
        XCTAssertThrowsError(try TiktokenEncoding(name: "t", rankFile: Array("IQ== 0\n".utf8), pattern: .gpt2)) { error in
            XCTAssertEqual("\(error)", "t: the rank file has no token for the byte 0; every byte needs one")
        }
    }

    func testEncodingOfModelNames() {
        XCTAssertEqual(OpenAIEncodingName.forModel("gpt-4o-mini"), .o200k)
        XCTAssertEqual(OpenAIEncodingName.forModel("openai/o3-mini"), .o200k)
        XCTAssertEqual(OpenAIEncodingName.forModel("azure/gpt-4.1"), .o200k)
        XCTAssertEqual(OpenAIEncodingName.forModel("gpt-4-turbo"), .cl100k)
        XCTAssertEqual(OpenAIEncodingName.forModel("gpt-3.5-turbo"), .cl100k)
        XCTAssertEqual(OpenAIEncodingName.forModel("text-embedding-3-small"), .cl100k)
        XCTAssertEqual(OpenAIEncodingName.forModel("text-davinci-003"), .p50k)
        XCTAssertNil(OpenAIEncodingName.forModel("claude-3-5-sonnet"))
    }

    func testTheLoaderFetchesOnceIntoTheCacheAndExplainsFailures() async throws {
        let cache = NSTemporaryDirectory() + "tokenizer-loader-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        let body = try [UInt8](ReferenceCountTests.fixture("hf-gpt2.json"))
        let calls = Mutex<[(String, [(String, String)])]>([])
        let loader = TokenizerLoader(settings: TokenizerSettings(cacheDirectory: cache, hubEndpoint: "https://hub.example/")) { url, headers in
            calls.withLock { $0.append((url, headers)) }
            return url.contains("gated") ? (403, []) : (200, body)
        }
        let first = try await loader.huggingFace(identifier: "acme/tiny", revision: "v1", authToken: "hf_x", localPath: nil)
        let second = try await loader.huggingFace(identifier: "acme/tiny", revision: "v1", authToken: "hf_x", localPath: nil)
        XCTAssertEqual(first.count("hello world"), second.count("hello world"))
        XCTAssertEqual(calls.withLock { $0.count }, 1)
        XCTAssertEqual(calls.withLock { $0[0].0 }, "https://hub.example/acme/tiny/resolve/v1/tokenizer.json")
        XCTAssertEqual(calls.withLock { $0[0].1.first?.1 }, "Bearer hf_x")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/huggingface/acme--tiny/v1/tokenizer.json"))
        _ = try await loader.huggingFace(identifier: "acme/tiny", revision: "refs/pr/1", authToken: nil, localPath: nil)
        XCTAssertEqual(calls.withLock { $0.last?.0 }, "https://hub.example/acme/tiny/resolve/refs%2Fpr%2F1/tokenizer.json")
        XCTAssertEqual(calls.withLock { $0.last?.1.count }, 0, "no token, no Authorization")
        do {
            _ = try await loader.huggingFace(identifier: "acme/gated", revision: "main", authToken: nil, localPath: nil)
            XCTFail("a 403 loads nothing")
        } catch {
            XCTAssertEqual("\(error)", "custom_tokenizer acme/gated: cannot fetch https://hub.example/acme/gated/resolve/main/tokenizer.json: HTTP 403 (a gated or private repo needs custom_tokenizer.auth_token)")
        }
        do {
            _ = try await loader.huggingFace(identifier: "./nowhere", revision: "main", authToken: nil, localPath: "./nowhere")
            XCTFail("a missing file loads nothing")
        } catch {
            XCTAssertEqual("\(error)", "custom_tokenizer ./nowhere: cannot read ./nowhere")
        }
    }

    func testTiktokensOwnCacheIsRead() async throws {
        let directory = NSTemporaryDirectory() + "tiktoken-cache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // tiktoken names cl100k_base's file by the SHA-1 of its URL.
        XCTAssertEqual(TokenizerLoader.tiktokenCacheKey(OpenAIEncodingName.cl100k.url), "9b5ad71b2ce5302211f9c61530b329a4922fc6a4")
        try ReferenceCountTests.fixture("ranks.tiktoken").write(to: URL(fileURLWithPath: directory + "/9b5ad71b2ce5302211f9c61530b329a4922fc6a4"))
        let loader = TokenizerLoader(settings: TokenizerSettings(environment: ["TIKTOKEN_CACHE_DIR": directory, "SWITCHBOARD_TOKENIZER_CACHE_DIR": directory + "/ours"])) { _, _ in
            XCTFail("nothing is fetched")
            return (500, [])
        }
        let encoding = try await loader.tiktoken(.cl100k)
        XCTAssertEqual(encoding.vocabularySize, 697, "every line of the fixture")
    }
}
