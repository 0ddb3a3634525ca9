import Foundation
import NIOCore
import OpenAIWire
import SwitchboardTesting
import XCTest

/// `POST /utils/token_counter` over real sockets: a `custom_tokenizer` fetched from a fake Hugging
/// Face hub (Bearer token checked, then read from the cache on the next start), tiktoken rank
/// files fetched from a fake blob store or read from a directory, errors, and the router's tpm
/// reservation counted with a loaded tokenizer. Expected counts come from the ids the PyPI
/// `tokenizers`/`tiktoken` packages gave (Tests/TokenizersTests/Fixtures/expected.json).
final class TokenCounterEndToEndTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TokenizersTests/Fixtures")

    struct Expected: Decodable {
        struct Tiktoken: Decodable { var ids: [[Int]] }
        var corpus: [String]
        var tokenizers: [String: [[Int]]]
        var tiktoken: [String: Tiktoken]
    }

    static let expected = try! JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    /// The reference count of a corpus text with a fixture tokenizer.
    static func reference(_ tokenizer: String, _ text: String) -> Int {
        let i = expected.corpus.firstIndex(of: text)!
        return expected.tokenizers[tokenizer]![i].count
    }

    static func tiktokenReference(_ encoding: String, _ text: String) -> Int {
        expected.tiktoken[encoding]!.ids[expected.corpus.firstIndex(of: text)!].count
    }

    static func temporaryDirectory() throws -> String {
        let path = ScratchFiles.path("switchboard-tokenizers")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let key = [("Authorization", "Bearer sk-master")]

    static func count(_ gateway: GatewayHarness, _ body: String) throws -> (status: Int, json: JSONValue) {
        let response = try gateway.request("POST", "/utils/token_counter", headers: key, body: body)
        return (response.status, try JSONValue.parse(response.body))
    }

    static func jsonString(_ s: String) -> String {
        var out = ByteBuffer()
        out.writeJSON(.string(s))
        return String(buffer: out)
    }

    func testCustomTokenizerFromTheHubCountsWithItsTokenAndIsCachedForTheNextStart() async throws {
        let hub = try await FakeHuggingFaceHub(repos: ["acme/tiny-llama": Self.fixture("hf-llama3.json")], tokens: ["acme/tiny-llama": "hf_secret_value"])
        let cache = try Self.temporaryDirectory()
        let yaml = """
            general_settings: {master_key: sk-master}
            model_list:
              - model_name: tiny
                litellm_params: {model: openai/tiny-llama, api_base: "http://127.0.0.1:9/v1", api_key: sk-up}
                model_info:
                  access_groups: [beta, internal]
                  custom_tokenizer: {identifier: acme/tiny-llama, revision: main, auth_token: os.environ/HF_TOKEN}
            """
        let environment = ["HF_ENDPOINT": hub.endpoint, "SWITCHBOARD_TOKENIZER_CACHE_DIR": cache, "HF_TOKEN": "hf_secret_value"]
        let system = "The quick brown fox jumps over the lazy dog."
        let user = "I'm sure they'll say it's fine, but we'd rather you've checked. DON'T SHOUT. I'M HERE."
        let body = #"{"model":"tiny","messages":[{"role":"system","content":\#(Self.jsonString(system))},{"role":"user","content":\#(Self.jsonString(user)),"name":"Alice"}]}"#
        let file = "hf-llama3.json"
        let want = 3 + (3 + Self.reference(file, "system") + Self.reference(file, system))
            + (3 + Self.reference(file, "user") + Self.reference(file, user) + Self.reference(file, "Alice") + 1)

        let first = try await GatewayHarness(yaml: yaml, environment: environment)
        XCTAssertEqual(try first.request("POST", "/utils/token_counter", body: body).status, 401, "behind the master key")
        let (status, json) = try Self.count(first, body)
        XCTAssertEqual(status, 200, "\(json)")
        XCTAssertEqual(json["total_tokens"]?.intValue, want)
        XCTAssertEqual(json["request_model"]?.stringValue, "tiny")
        XCTAssertEqual(json["model_used"]?.stringValue, "tiny-llama")
        XCTAssertEqual(json["tokenizer_type"]?.stringValue, "huggingface_tokenizer")
        let prompt = "你好，世界！今天天气很好。"
        let (_, promptJSON) = try Self.count(first, #"{"model":"tiny","prompt":\#(Self.jsonString(prompt))}"#)
        XCTAssertEqual(promptJSON["total_tokens"]?.intValue, Self.reference(file, prompt))
        XCTAssertEqual(hub.resolveRequests.count, 1, "fetched once")
        XCTAssertEqual(hub.resolveRequests.first?.uri, "/acme/tiny-llama/resolve/main/tokenizer.json")
        XCTAssertEqual(hub.resolveRequests.first?.header("authorization"), "Bearer hf_secret_value")
        XCTAssertEqual(hub.requests.filter { $0.uri.hasPrefix("/cdn/") }.count, 1, "the hub's redirect was followed")

        // /model/info shows access_groups and the tokenizer, never its token.
        let info = try first.request("GET", "/model/info", headers: Self.key)
        XCTAssertFalse(info.body.contains("hf_secret_value"))
        let modelInfo = try JSONValue.parse(info.body)["data"]?.arrayValue?.first?["model_info"]
        XCTAssertEqual(modelInfo?["access_groups"]?.arrayValue?.compactMap(\.stringValue), ["beta", "internal"])
        XCTAssertEqual(modelInfo?["custom_tokenizer"]?["identifier"]?.stringValue, "acme/tiny-llama")
        XCTAssertNil(modelInfo?["custom_tokenizer"]?["auth_token"])
        await first.shutdown()

        // The next start reads the cache: the hub sees no new request.
        let second = try await GatewayHarness(yaml: yaml, environment: environment)
        let (again, againJSON) = try Self.count(second, body)
        XCTAssertEqual(again, 200)
        XCTAssertEqual(againJSON["total_tokens"]?.intValue, want)
        XCTAssertEqual(hub.requests.count, 2)
        await second.shutdown()
        await hub.shutdown()
    }

    func testAGatedTokenizerWithoutItsTokenIsAClearError() async throws {
        let hub = try await FakeHuggingFaceHub(repos: ["acme/gated": Self.fixture("hf-gpt2.json")], tokens: ["acme/gated": "hf_right"])
        let cache = try Self.temporaryDirectory()
        let gateway = try await GatewayHarness(yaml: """
            general_settings: {master_key: sk-master}
            model_list:
              - model_name: gated
                litellm_params: {model: openai/gated, api_base: "http://127.0.0.1:9/v1", api_key: sk-up}
                model_info: {custom_tokenizer: {identifier: acme/gated, auth_token: hf_wrong_value}}
              - model_name: missing
                litellm_params: {model: openai/missing, api_base: "http://127.0.0.1:9/v1", api_key: sk-up}
                model_info: {custom_tokenizer: {identifier: acme/none}}
            """, environment: ["HF_ENDPOINT": hub.endpoint, "SWITCHBOARD_TOKENIZER_CACHE_DIR": cache])
        let (status, json) = try Self.count(gateway, #"{"model":"gated","prompt":"hello"}"#)
        XCTAssertEqual(status, 503)
        let message = json["error"]?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("acme/gated/resolve/main/tokenizer.json: HTTP 401"), message)
        XCTAssertTrue(message.contains("auth_token"), message)
        XCTAssertFalse(message.contains("hf_wrong_value"), message)
        XCTAssertEqual(hub.resolveRequests.first?.header("authorization"), "Bearer hf_wrong_value")
        let (missing, missingJSON) = try Self.count(gateway, #"{"model":"missing","prompt":"hello"}"#)
        XCTAssertEqual(missing, 503)
        XCTAssertTrue(missingJSON["error"]?["message"]?.stringValue?.contains("custom_tokenizer acme/none") == true, "\(missingJSON)")
        XCTAssertEqual(try Self.count(gateway, #"{"model":"gated"}"#).status, 400, "messages or prompt is required")
        XCTAssertEqual(try Self.count(gateway, #"{"prompt":"x"}"#).status, 400, "model is required")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache + "/huggingface/acme--gated/main/tokenizer.json"), "a failed fetch is not cached")
        await gateway.shutdown()
        await hub.shutdown()
    }

    func testOpenAIModelsCountWithTheirTiktokenEncodingFetchedOnce() async throws {
        let ranks = try Self.fixture("ranks.tiktoken")
        let blobs = try await FakeBlobStore(files: ["/encodings/o200k_base.tiktoken": ranks, "/encodings/cl100k_base.tiktoken": ranks])
        let cache = try Self.temporaryDirectory()
        let yaml = """
            general_settings: {master_key: sk-master}
            model_list:
              - model_name: smart
                litellm_params: {model: openai/gpt-4o, api_key: sk-up}
              - model_name: claude
                litellm_params: {model: anthropic/claude-3-5-sonnet-20240620, api_key: sk-up}
            """
        let gateway = try await GatewayHarness(yaml: yaml, environment: [
            "SWITCHBOARD_TIKTOKEN_BASE_URL": blobs.baseURL + "/encodings", "SWITCHBOARD_TOKENIZER_CACHE_DIR": cache])
        let text = "Hello world, how are you today?"
        let (_, smart) = try Self.count(gateway, #"{"model":"smart","messages":[{"role":"user","content":\#(Self.jsonString(text))}]}"#)
        XCTAssertEqual(smart["model_used"]?.stringValue, "gpt-4o")
        XCTAssertEqual(smart["tokenizer_type"]?.stringValue, "openai_tokenizer")
        let o200kUser = Self.tiktokenReference("o200k", "user")
        XCTAssertEqual(smart["total_tokens"]?.intValue, 3 + 3 + o200kUser + Self.tiktokenReference("o200k", text))
        let emoji = "👍🏽 🎉 👨‍👩‍👧 🇫🇷 ❤️ 😀😃😄"
        let (_, claude) = try Self.count(gateway, #"{"model":"claude","prompt":\#(Self.jsonString(emoji))}"#)
        XCTAssertEqual(claude["model_used"]?.stringValue, "claude-3-5-sonnet-20240620")
        XCTAssertEqual(claude["total_tokens"]?.intValue, Self.tiktokenReference("cl100k", emoji), "other models count with cl100k_base")
        let (_, unknown) = try Self.count(gateway, #"{"model":"gpt-4.1-mini","prompt":\#(Self.jsonString(emoji))}"#)
        XCTAssertEqual(unknown["model_used"]?.stringValue, "gpt-4.1-mini")
        XCTAssertEqual(unknown["total_tokens"]?.intValue, Self.tiktokenReference("o200k", emoji))
        XCTAssertEqual(blobs.requests.map(\.uri).sorted(), ["/encodings/cl100k_base.tiktoken", "/encodings/o200k_base.tiktoken"], "each rank file fetched once")
        await gateway.shutdown()

        // A configured directory is read as it is, never fetched.
        let directory = try Self.temporaryDirectory()
        try ranks.write(toFile: directory + "/o200k_base.tiktoken", atomically: true, encoding: .utf8)
        let offline = try await GatewayHarness(yaml: yaml, environment: ["SWITCHBOARD_TIKTOKEN_DIR": directory, "SWITCHBOARD_TIKTOKEN_BASE_URL": "http://127.0.0.1:9"])
        let (status, local) = try Self.count(offline, #"{"model":"smart","prompt":\#(Self.jsonString(text))}"#)
        XCTAssertEqual(status, 200)
        XCTAssertEqual(local["total_tokens"]?.intValue, Self.tiktokenReference("o200k", text))
        let (missing, error) = try Self.count(offline, #"{"model":"claude","prompt":"x"}"#)
        XCTAssertEqual(missing, 503)
        XCTAssertTrue(error["error"]?["message"]?.stringValue?.contains("cl100k_base.tiktoken (SWITCHBOARD_TIKTOKEN_DIR)") == true, "\(error)")
        await offline.shutdown()
        await blobs.shutdown()
    }

    func testTheTpmReservationCountsWithALoadedCustomTokenizer() async throws {
        // CJK text: the byte-fallback tokenizer makes about a token per byte, four times the
        // gateway's estimate (a token per four bytes of body).
        let text = String(repeating: "你好", count: 120)
        let body = #"{"model":"MODEL","messages":[{"role":"user","content":"\#(text)"}]}"#
        let file = "hf-byte-fallback.json"
        let counted = 3 + 3 + Self.reference(file, "user") + Self.reference(file, text)
        let estimate = body.utf8.count / 4
        let tpm = (counted + estimate) / 2
        XCTAssertLessThan(estimate, tpm)
        XCTAssertLessThan(tpm, counted)
        let path = Self.fixtures.appendingPathComponent(file).path
        let gateway = try await GatewayHarness(yaml: """
            general_settings: {master_key: sk-master}
            model_list:
              - model_name: estimated
                litellm_params: {model: openai/x, api_key: sk-up, tpm: \(tpm), mock_response: ok}
              - model_name: counted
                litellm_params: {model: openai/x, api_key: sk-up, tpm: \(tpm), mock_response: ok}
                model_info: {custom_tokenizer: {identifier: "\(path)"}}
            """)
        let plain = try gateway.request("POST", "/v1/chat/completions", headers: Self.key, body: body.replacingOccurrences(of: "MODEL", with: "estimated"))
        XCTAssertEqual(plain.status, 200, "the estimate fits: \(plain.body)")
        // The counter loads the tokenizer (the router never waits for a load).
        let (status, json) = try Self.count(gateway, body.replacingOccurrences(of: "MODEL", with: "counted"))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(json["total_tokens"]?.intValue, counted)
        let refused = try gateway.request("POST", "/v1/chat/completions", headers: Self.key, body: body.replacingOccurrences(of: "MODEL", with: "counted"))
        XCTAssertEqual(refused.status, 429, "the counted prompt does not fit: \(refused.body)")
        await gateway.shutdown()
    }
}
