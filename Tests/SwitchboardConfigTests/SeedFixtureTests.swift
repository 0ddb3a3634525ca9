import Foundation
import OpenAIWire
import SwitchboardConfig
import XCTest

/// Every config example of LiteLLM's config doc (the seed), copied verbatim into Fixtures/.
final class SeedFixtureTests: XCTestCase {
    private let azure = ["AZURE_API_KEY": "az-key", "AZURE_API_BASE": "https://az.example.com"]

    func testQuickStart() throws {
        let c = try loadFixture("quick_start", environment: ["AZURE_API_KEY_EU": "eu-key", "AZURE_API_KEY_CA": "ca-key"])
        XCTAssertEqual(c.modelNames, ["gpt-4o", "bedrock-claude-v1", "anthropic-claude", "vllm-models", "*"])
        XCTAssertEqual(c.deployments.count, 6)
        let gpt4o = c.deployments.filter { $0.modelName == "gpt-4o" }
        XCTAssertEqual(gpt4o.map(\.params.model), ["azure/gpt-4o-eu", "azure/gpt-4o-ca"])
        XCTAssertEqual(gpt4o.map(\.params.apiKey), ["eu-key", "ca-key"])
        XCTAssertEqual(gpt4o.map(\.params.rpm), [6, 6])
        XCTAssertEqual(c.deployments[3].params.awsRegionName, "us-east-1")
        XCTAssertEqual(c.deployments[4].params.rpm, 1440)
        XCTAssertEqual(c.deployments[4].params.apiKey, "none")
        XCTAssertEqual(c.deployments[4].modelInfo.all["version"], .int(2))
        XCTAssertEqual(c.deployments[5].params.model, "*")
        XCTAssertTrue(c.litellmSettings.dropParams)
        XCTAssertEqual(c.litellmSettings.successCallback, ["langfuse"])
        XCTAssertEqual(c.generalSettings.masterKey, "sk-1234")
        XCTAssertEqual(c.generalSettings.alerting, ["slack"])
        XCTAssertEqual(c.warnings, [])
    }

    func testModelSpecificParams() throws {
        let c = try loadFixture("model_specific_params")
        XCTAssertEqual(c.modelNames, ["gpt-4-team1", "gpt-4-team2", "openai-gpt-4o", "mistral-7b"])
        let team1 = c.deployments[0].params
        XCTAssertEqual(team1.apiVersion, "2023-05-15")
        XCTAssertEqual(team1.azureAdToken, "eyJ0eXAiOiJ")
        XCTAssertEqual(team1.requestDefaults, [JSONMember("seed", .int(12)), JSONMember("max_tokens", .int(20))])
        XCTAssertEqual(c.deployments[1].params.requestDefaults, [JSONMember("temperature", .double(0.2))])
        let openai = c.deployments[2].params
        XCTAssertEqual(openai.extraHeaders.first?.name, "AI-Resource Group")
        XCTAssertEqual(openai.extraHeaders.first?.value, "ishaan-resource")
        XCTAssertEqual(openai.organization, "org-ikDc4ex8NB")
        XCTAssertEqual(c.deployments[3].params.model, "ollama/mistral")
        XCTAssertEqual(c.warnings.map(\.path), ["model_list[3].litellm_params.api_base"])
    }

    func testEmbeddingExamples() throws {
        let cohere = try loadFixture("embeddings_bedrock_cohere")
        XCTAssertEqual(cohere.modelNames, ["bedrock-cohere"])
        XCTAssertEqual(cohere.deployments.map(\.params.awsRegionName), ["us-west-2", "us-east-2", "us-east-1"])
        XCTAssertEqual(Set(cohere.deployments.map(\.id)).count, 3)

        let mixed = try loadFixture("embeddings_sagemaker_bedrock_azure", environment: azure)
        XCTAssertEqual(mixed.modelNames, ["sagemaker-embeddings", "amazon-embeddings", "azure-embeddings"])
        XCTAssertEqual(mixed.deployments[2].params.apiBase, "https://az.example.com")
        XCTAssertEqual(mixed.deployments[2].params.apiKey, "az-key")
        XCTAssertEqual(mixed.deployments[2].params.apiVersion, "2023-07-01-preview")
        XCTAssertEqual(mixed.generalSettings.masterKey, "sk-1234")

        let hf = try loadFixture("embeddings_huggingface")
        XCTAssertEqual(hf.modelNames, ["deployed-codebert-base", "codebert-base"])
        XCTAssertEqual(hf.deployments.map(\.params.apiBase),
                       ["https://uysneno1wv2wd4lw.us-east-1.aws.endpoints.huggingface.cloud", nil])
        XCTAssertEqual(hf.deployments.map(\.params.apiKey), ["hf_LdS", "hf_LdS"])

        let az = try loadFixture("embeddings_azure")
        XCTAssertEqual(az.deployments[0].params.apiVersion, "2023-07-01-preview")
        XCTAssertEqual(az.warnings.map(\.path), ["model_list[0].litellm_params.api_base"])

        let openai = try loadFixture("embeddings_openai")
        XCTAssertEqual(openai.modelNames, ["text-embedding-ada-002"])
        XCTAssertEqual(openai.deployments.map(\.params.apiKey), ["your-api-key-1", "your-api-key-2"])

        let xinference = try loadFixture("embeddings_xinference")
        XCTAssertEqual(xinference.deployments[0].params.model, "xinference/bge-base-en")
        XCTAssertEqual(xinference.deployments[0].params.apiBase, "http://0.0.0.0:9997/v1")

        let compatible = try loadFixture("embeddings_openai_compatible")
        XCTAssertEqual(compatible.deployments[0].params.model, "openai/<your-model-name>")
        XCTAssertEqual(compatible.warnings.map(\.path), ["model_list[0].litellm_params.api_base"])
    }

    func testMultipleOrganizationsAsWrittenFailsWithAQuotingHint() throws {
        let path = try fixturePath("multiple_organizations_as_written")
        XCTAssertThrowsError(try ConfigLoader(environment: ["OPENAI_API_KEY": "k"]).load(path: path)) { error in
            let message = (error as? ConfigError)?.message ?? ""
            XCTAssertTrue(message.contains("line 1"), message)
            XCTAssertTrue(message.contains("quote it, e.g. model_name: \"*\""), message)
        }
        // Quoted but still without model_list: the error says where entries go.
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: ": *\n", with: ": \"*\"\n")
        let noList = try XCTUnwrap(loadError(text, environment: ["OPENAI_API_KEY": "k"]))
        XCTAssertTrue(noList.message.contains("under a model_list: key"), noList.message)
        // The corrected version is covered by DeploymentTests.testOrganizationListExpands.
        XCTAssertEqual(try loadFixture("multiple_organizations", environment: ["OPENAI_API_KEY": "k"]).deployments.count, 3)
    }

    func testLoadBalancing() throws {
        let c = try loadFixture("load_balancing")
        XCTAssertEqual(c.modelNames, ["zephyr-beta", "gpt-4o", "gpt-3.5-turbo-16k"])
        XCTAssertEqual(c.deployments.map(\.params.rpm), [60, 600, 60000, 200, 100])
        XCTAssertEqual(c.deployments[0].params.tpm, 1000)
        XCTAssertEqual(c.deployments.map(\.params.apiBase).prefix(3),
                       ["http://0.0.0.0:8001", "http://0.0.0.0:8002", "http://0.0.0.0:8003"])
        let l = c.litellmSettings
        XCTAssertEqual(l.numRetries, 3)
        XCTAssertEqual(l.requestTimeout, 10)
        XCTAssertEqual(l.fallbacks, [FallbackRule(modelGroup: "zephyr-beta", fallbacks: ["gpt-4o"])])
        XCTAssertEqual(l.contextWindowFallbacks, [FallbackRule(modelGroup: "zephyr-beta", fallbacks: ["gpt-3.5-turbo-16k"]),
                                                  FallbackRule(modelGroup: "gpt-4o", fallbacks: ["gpt-3.5-turbo-16k"])])
        XCTAssertEqual(l.allowedFails, 3)
        let r = c.routerSettings
        XCTAssertEqual(r.routingStrategy, "simple-shuffle")
        XCTAssertEqual(r.modelGroupAlias.map(\.alias), ["gpt-4"])
        XCTAssertEqual(r.modelGroupAlias.map(\.target), [ModelGroupAlias(model: "gpt-4o")])
        XCTAssertEqual(r.numRetries, 2)
        XCTAssertEqual(r.timeout, 30)
        XCTAssertEqual(r.redisHost, "<your redis host>")
        XCTAssertEqual(r.redisPassword, "<your redis password>")
        XCTAssertEqual(r.redisPort, 1992)
        XCTAssertEqual(c.warnings, [])
    }

    func testEnvironmentKeysAndCredentials() throws {
        let env = try loadFixture("environment_keys", environment: ["AZURE_NORTH_AMERICA_API_KEY": "na-key"])
        XCTAssertEqual(env.deployments[0].params.apiKey, "na-key")
        XCTAssertEqual(env.deployments[0].params.apiVersion, "2023-05-15")
        XCTAssertEqual(try XCTUnwrap(loadFixtureError("environment_keys", strict: true)).path, "model_list[0].litellm_params.api_key")
        let lenient = try loadFixture("environment_keys")
        XCTAssertEqual(lenient.missingVariables, [MissingVariable(name: "AZURE_NORTH_AMERICA_API_KEY", path: "model_list[0].litellm_params.api_key")])
        XCTAssertEqual(lenient.deployments[0].missingVariables, lenient.missingVariables)

        let cred = try loadFixture("credential_management", environment: azure)
        let p = cred.deployments[0].params
        XCTAssertEqual([p.apiKey, p.apiBase, p.apiVersion], ["az-key", "https://az.example.com", "2023-05-15"])
        XCTAssertEqual(cred.credentials.first?.info, [JSONMember("description", .string("Production credentials for EU region"))])
        XCTAssertEqual(cred.warnings, [])
    }

    func testSupportedEnvironments() throws {
        func names(_ environment: String?) throws -> [String] {
            var env = ["OPENAI_API_KEY": "k"]
            env["LITELLM_ENVIRONMENT"] = environment
            return try loadFixture("supported_environments", environment: env).modelNames
        }
        XCTAssertEqual(try names(nil), ["gpt-3.5-turbo-16k", "gpt-4", "gpt-4o"])
        XCTAssertEqual(try names("production"), ["gpt-3.5-turbo-16k", "gpt-4", "gpt-4o"])
        XCTAssertEqual(try names("staging"), ["gpt-3.5-turbo-16k", "gpt-4"])
        XCTAssertEqual(try names("development"), ["gpt-3.5-turbo-16k"])
    }

    func testPromptTemplateAndTokenizer() throws {
        let template = try loadFixture("custom_prompt_template")
        XCTAssertEqual(template.deployments[0].params.model, "huggingface/mistralai/Mistral-7B-Instruct-v0.1")
        XCTAssertNotNil(template.deployments[0].params.promptTemplate)

        let tokenizer = try loadFixture("custom_tokenizer", environment: ["OPENAI_API_KEY": "k", "HUGGINGFACE_API_KEY": "hf"])
        let info = tokenizer.deployments[0].modelInfo
        XCTAssertEqual(info.accessGroups, ["restricted-models"])
        XCTAssertEqual(info.all["custom_tokenizer"], .object([
            JSONMember("identifier", .string("deepseek-ai/DeepSeek-V3-Base")), JSONMember("revision", .string("main")),
            JSONMember("auth_token", .string("hf")),
        ]))
        XCTAssertEqual(try XCTUnwrap(loadFixtureError("custom_tokenizer", environment: ["OPENAI_API_KEY": "k"], strict: true)).path,
                       "model_list[0].model_info.custom_tokenizer.auth_token")
        let noTokenizerKey = try loadFixture("custom_tokenizer", environment: ["OPENAI_API_KEY": "k"])
        XCTAssertEqual(noTokenizerKey.missingVariables.map(\.path), ["model_list[0].model_info.custom_tokenizer.auth_token"])
        XCTAssertEqual(noTokenizerKey.deployments[0].missingVariables, [], "model_info is not needed to call the deployment")

        // The spec block is not a config: it loads, with warnings and no deployments.
        let spec = try loadFixture("custom_tokenizer_spec")
        XCTAssertTrue(spec.deployments.isEmpty)
        XCTAssertEqual(spec.warnings.map(\.path), ["custom_tokenizer", "model_list"])
    }

    func testGeneralSettingsAndConfigFilePath() throws {
        let pool = try loadFixture("general_settings_db_pool")
        XCTAssertEqual(pool.generalSettings.databaseConnectionPoolLimit, 100)
        XCTAssertEqual(pool.generalSettings.databaseConnectionTimeout, 60)
        XCTAssertTrue(pool.deployments.isEmpty)

        let simple = try loadFixture("config_file_path", environment: ["OPENAI_API_KEY": "sk-env"])
        XCTAssertEqual(simple.deployments.map(\.modelName), ["gpt-4o"])
        XCTAssertEqual(simple.deployments[0].params.apiKey, "sk-env")
    }

    func testEveryFixtureIsLoadedHere() throws {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertEqual(names.count, 20)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        for name in names {
            XCTAssertTrue(source.contains("\"\(name.dropLast(5))\""), "fixture \(name) is not tested")
        }
    }

    func testUnreadableFileNamesThePath() throws {
        let path = "/nonexistent/switchboard/config.yaml"
        XCTAssertThrowsError(try ConfigLoader(environment: [:]).load(path: path)) { error in
            XCTAssertEqual((error as? ConfigError)?.message, "cannot read config file \(path): no such file")
        }
    }

    private func loadFixtureError(_ name: String, environment: [String: String] = [:], strict: Bool = false) throws -> ConfigError? {
        loadError(try String(contentsOfFile: fixturePath(name), encoding: .utf8), environment: environment, strict: strict)
    }
}
