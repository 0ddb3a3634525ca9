import SwitchboardConfig
import XCTest

/// `model_info.custom_tokenizer` and `model_info.access_groups`.
final class CustomTokenizerConfigTests: XCTestCase {
    private func info(_ body: String) -> String {
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m}\n    model_info:\n"
            + body.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n") + "\n"
    }

    func testHubTokenizerWithRevisionAndTokenFromTheEnvironment() throws {
        let config = try load(info("""
            access_groups: [beta, internal]
            custom_tokenizer:
              identifier: meta-llama/Meta-Llama-3-8B
              revision: refs/pr/1
              auth_token: os.environ/HF_TOKEN
            """), environment: ["HF_TOKEN": "hf_abc"])
        let modelInfo = config.deployments[0].modelInfo
        XCTAssertEqual(modelInfo.accessGroups, ["beta", "internal"])
        XCTAssertEqual(modelInfo.customTokenizer, CustomTokenizer(identifier: "meta-llama/Meta-Llama-3-8B", revision: "refs/pr/1", authToken: "hf_abc"))
        XCTAssertNil(modelInfo.customTokenizer?.localPath)
    }

    func testDefaultsAndLocalPaths() throws {
        let hub = try load(info("custom_tokenizer: {identifier: gpt2}")).deployments[0].modelInfo.customTokenizer
        XCTAssertEqual(hub, CustomTokenizer(identifier: "gpt2", revision: "main", authToken: nil))
        for path in ["/models/llama/tokenizer.json", "./tok", "../tok/tokenizer.json", "file:///srv/tok.json"] {
            let local = try load(info("custom_tokenizer: {identifier: \"\(path)\"}")).deployments[0].modelInfo.customTokenizer
            XCTAssertNotNil(local?.localPath, path)
        }
        XCTAssertEqual(try load(info("custom_tokenizer: {identifier: \"file:///srv/tok.json\"}")).deployments[0].modelInfo.customTokenizer?.localPath, "/srv/tok.json")
    }

    func testBadTokenizersNameTheirKeyPath() throws {
        XCTAssertEqual(loadError(info("custom_tokenizer: {revision: main}"))?.path, "model_list[0].model_info.custom_tokenizer.identifier")
        let shape = try XCTUnwrap(loadError(info("custom_tokenizer: meta-llama/Meta-Llama-3-8B")))
        XCTAssertEqual(shape.path, "model_list[0].model_info.custom_tokenizer")
        let id = try XCTUnwrap(loadError(info("custom_tokenizer: {identifier: \"a/b/c d\"}")))
        XCTAssertEqual(id.path, "model_list[0].model_info.custom_tokenizer.identifier")
        XCTAssertTrue(id.message.contains("neither a Hugging Face repo id"), id.message)
        XCTAssertEqual(loadError(info("custom_tokenizer: {identifier: gpt2, revision: \"\"}"))?.path, "model_list[0].model_info.custom_tokenizer.revision")
        XCTAssertEqual(loadError(info("access_groups: {beta: 1}"))?.path, "model_list[0].model_info.access_groups")
    }
}
