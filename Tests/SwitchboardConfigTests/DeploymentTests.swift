import OpenAIWire
import SwitchboardConfig
import XCTest

final class DeploymentTests: XCTestCase {
    func testTypedParamsAndRequestDefaults() throws {
        let config = try load("""
            model_list:
              - model_name: full
                litellm_params:
                  temperature: 0.2
                  model: azure/gpt-4o
                  api_base: https://eu.example.com/
                  api_key: sk-a
                  api_version: "2024-02-01"
                  azure_ad_token: ad-token
                  seed: 12
                  aws_region_name: us-east-1
                  aws_access_key_id: AKIA
                  aws_secret_access_key: secret
                  aws_session_token: session
                  extra_headers: {"AI-Resource Group": "ishaan-resource", "X-N": 7}
                  rpm: 6
                  tpm: 1000
                  weight: 0.5
                  timeout: 30
                  stream_timeout: 5
                  max_retries: 2
                  mock_response: {choices: [{message: {content: hi}}]}
                  custom_llm_provider: azure
                  input_cost_per_token: 0.001
                  tags: [eu]
                  stream: true
                  num_retries: 3
                  max_tokens: 20
                  stop: ["\\n"]
                  top_p: 0.9
            """)
        let p = config.deployments[0].params
        XCTAssertEqual(p.model, "azure/gpt-4o")
        XCTAssertEqual(p.apiBase, "https://eu.example.com/")
        XCTAssertEqual(p.apiKey, "sk-a")
        XCTAssertEqual(p.apiVersion, "2024-02-01")
        XCTAssertEqual(p.azureAdToken, "ad-token")
        XCTAssertEqual(p.awsRegionName, "us-east-1")
        XCTAssertEqual(p.awsAccessKeyId, "AKIA")
        XCTAssertEqual(p.awsSecretAccessKey, "secret")
        XCTAssertEqual(p.awsSessionToken, "session")
        XCTAssertEqual(p.extraHeaders.map(\.name), ["AI-Resource Group", "X-N"])
        XCTAssertEqual(p.extraHeaders.map(\.value), ["ishaan-resource", "7"])
        XCTAssertEqual(p.rpm, 6)
        XCTAssertEqual(p.tpm, 1000)
        XCTAssertEqual(p.weight, 0.5)
        XCTAssertEqual(p.timeout, 30)
        XCTAssertEqual(p.streamTimeout, 5)
        XCTAssertEqual(p.maxRetries, 2)
        XCTAssertEqual(p.mockResponse?["choices"]?.arrayValue?.count, 1)
        XCTAssertNil(p.promptTemplate)
        XCTAssertEqual(p.requestDefaults.keys, ["temperature", "seed", "max_tokens", "stop", "top_p"])
        XCTAssertEqual(p.requestDefaults["stop"], .array([.string("\n")]))
        XCTAssertEqual(p.all.first?.key, "temperature")
        XCTAssertEqual(p.all.count, 27)
    }

    func testPromptTemplate() throws {
        let config = try loadFixture("custom_prompt_template")
        let p = config.deployments[0].params
        let template = try XCTUnwrap(p.promptTemplate)
        XCTAssertEqual(template.initialPromptValue, "\n")
        XCTAssertEqual(template.finalPromptValue, "\n")
        XCTAssertEqual(template.bosToken, " ")
        XCTAssertEqual(template.eosToken, " ")
        XCTAssertEqual(template.roles["system"], .init(preMessage: "<|im_start|>system\n", postMessage: "<|im_end|>"))
        XCTAssertEqual(template.roles["user"]?.preMessage, "<|im_start|>user\n")
        XCTAssertEqual(template.roles.count, 3)
        XCTAssertEqual(p.requestDefaults.keys, ["max_tokens"])
        XCTAssertEqual(p.requestDefaults["max_tokens"], .int(4096))
    }

    private let credentialsYAML = """
        model_list:
          - model_name: own-base
            litellm_params:
              model: azure/gpt-4o
              api_base: https://own.example.com
              api_key: null
              litellm_credential_name: shared
        credential_list:
          - credential_name: shared
            credential_values:
              api_key: os.environ/SHARED_KEY
              api_base: https://shared.example.com
              api_version: "2023-05-15"
            credential_info: {}
        """

    func testCredentialFillsOnlyWhatTheDeploymentDoesNotSet() throws {
        let config = try load(credentialsYAML, environment: ["SHARED_KEY": "sk-shared"])
        let p = config.deployments[0].params
        XCTAssertEqual(p.apiBase, "https://own.example.com")
        XCTAssertEqual(p.apiKey, "sk-shared")
        XCTAssertEqual(p.apiVersion, "2023-05-15")
        XCTAssertEqual(p.credentialName, "shared")
        XCTAssertEqual(p.all.keys, ["model", "api_base", "api_key", "litellm_credential_name", "api_version"])
        XCTAssertEqual(p.all["api_key"], .string("sk-shared"))
        XCTAssertEqual(config.credentials, [Credential(
            name: "shared",
            values: [JSONMember("api_key", .string("sk-shared")), JSONMember("api_base", .string("https://shared.example.com")),
                     JSONMember("api_version", .string("2023-05-15"))],
            info: [])])
    }

    func testCredentialErrors() throws {
        let unknown = try XCTUnwrap(loadError(credentialsYAML.replacingOccurrences(of: "litellm_credential_name: shared",
                                                                               with: "litellm_credential_name: other"),
                                              environment: ["SHARED_KEY": "k"]))
        XCTAssertEqual(unknown.path, "model_list[0].litellm_params.litellm_credential_name")
        XCTAssertTrue(unknown.message.contains("\"other\""), unknown.message)

        let noInfo = try XCTUnwrap(loadError(credentialsYAML.replacingOccurrences(of: "credential_info: {}", with: ""),
                                             environment: ["SHARED_KEY": "k"]))
        XCTAssertEqual(noInfo.path, "credential_list[0].credential_info")

        let missingVariable = try XCTUnwrap(loadError(credentialsYAML, strict: true))
        XCTAssertEqual(missingVariable.path, "credential_list[0].credential_values.api_key")

        let badValue = try XCTUnwrap(loadError(credentialsYAML.replacingOccurrences(of: "api_version: \"2023-05-15\"",
                                                                                 with: "rpm: lots"),
                                               environment: ["SHARED_KEY": "k"]))
        XCTAssertEqual(badValue.path, "credential_list[0].credential_values.rpm")
    }

    func testOrganizationListExpands() throws {
        let config = try loadFixture("multiple_organizations", environment: ["OPENAI_API_KEY": "sk-org"])
        XCTAssertEqual(config.deployments.count, 3)
        XCTAssertEqual(config.modelNames, ["*"])
        XCTAssertEqual(config.deployments.map(\.params.organization), ["org-1", "org-2", "org-3"])
        XCTAssertEqual(config.deployments.map { $0.params.all["organization"] },
                       [.string("org-1"), .string("org-2"), .string("org-3")])
        XCTAssertEqual(Set(config.deployments.map(\.id)).count, 3)
        XCTAssertTrue(config.deployments.allSatisfy { $0.params.apiKey == "sk-org" && $0.params.model == "openai/*" })
    }

    func testGeneratedIdsAreStableDistinctAndIgnoreSecrets() throws {
        let yaml = """
            model_list:
              - model_name: g
                litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY}
              - model_name: g
                litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY}
              - model_name: h
                litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY}
            """
        let first = try load(yaml, environment: ["KEY": "sk-one"])
        let second = try load(yaml, environment: ["KEY": "sk-rotated"])
        let ids = first.deployments.map(\.id)
        XCTAssertEqual(ids, second.deployments.map(\.id))
        XCTAssertEqual(Set(ids).count, 3)
        for id in ids {
            XCTAssertEqual(id.count, 64)
            XCTAssertTrue(id.allSatisfy { "0123456789abcdef".contains($0) }, id)
        }
        XCTAssertEqual(first.deployments[0].modelInfo.all.first, JSONMember("id", .string(ids[0])))
        // The first of two identical entries keeps the id it has alone.
        let alone = try load("""
            model_list:
              - model_name: g
                litellm_params: {model: openai/gpt-4o, api_key: os.environ/KEY}
            """, environment: ["KEY": "x"])
        XCTAssertEqual(alone.deployments[0].id, ids[0])
        let changed = try load(yaml.replacingOccurrences(of: "model_name: h", with: "model_name: h2"), environment: ["KEY": "x"])
        XCTAssertNotEqual(changed.deployments[2].id, ids[2])
    }

    func testExplicitIds() throws {
        let config = try load("""
            model_list:
              - model_name: a
                litellm_params: {model: openai/a}
                model_info: {mode: chat, id: my-id, base_model: gpt-4o, access_groups: [beta], max_input_tokens: 128000,
                             max_output_tokens: 4096, input_cost_per_token: 0.0000025, output_cost_per_token: "0.00001"}
            """)
        let info = config.deployments[0].modelInfo
        XCTAssertEqual(info.id, "my-id")
        XCTAssertEqual(info.all.keys, ["mode", "id", "base_model", "access_groups", "max_input_tokens",
                                       "max_output_tokens", "input_cost_per_token", "output_cost_per_token"])
        XCTAssertEqual(info.mode, "chat")
        XCTAssertEqual(info.baseModel, "gpt-4o")
        XCTAssertEqual(info.accessGroups, ["beta"])
        XCTAssertEqual(info.maxInputTokens, 128000)
        XCTAssertEqual(info.maxOutputTokens, 4096)
        XCTAssertEqual(info.inputCostPerToken, 0.0000025)
        XCTAssertEqual(info.outputCostPerToken, 0.00001)

        let duplicate = try XCTUnwrap(loadError("""
            model_list:
              - model_name: a
                litellm_params: {model: openai/a}
                model_info: {id: same}
              - model_name: b
                litellm_params: {model: openai/b}
                model_info: {id: same}
            """))
        XCTAssertEqual(duplicate.path, "model_list[1].model_info.id")
        XCTAssertTrue(duplicate.message.contains("duplicate id \"same\""), duplicate.message)
    }
}
