import OpenAIWire
import SwitchboardConfig
import XCTest

/// An unset `os.environ/` variable: LiteLLM starts and only the calls that need the value fail.
final class MissingVariableTests: XCTestCase {
    static let yaml = """
        environment_variables:
          DERIVED_KEY: os.environ/UPSTREAM_SECRET
        credential_list:
          - credential_name: azure-eu
            credential_values: {api_key: os.environ/AZURE_KEY_EU, api_base: "https://eu.example.com"}
            credential_info: {}
        model_list:
          - model_name: works
            litellm_params: {model: openai/works, api_key: os.environ/SET_KEY}
          - model_name: needs-openai
            litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY, organization: [org-a, org-b]}
          - model_name: from-credential
            litellm_params: {model: openai/x, litellm_credential_name: azure-eu}
          - model_name: own-key-over-credential
            litellm_params: {model: openai/y, litellm_credential_name: azure-eu, api_key: sk-own}
          - model_name: derived
            litellm_params: {model: openai/z, api_key: os.environ/DERIVED_KEY}
          - model_name: info-only
            litellm_params: {model: openai/w}
            model_info: {custom_tokenizer: {identifier: acme/tok, auth_token: os.environ/HUGGINGFACE_API_KEY}}
          - model_name: again
            litellm_params: {model: openai/v, api_key: os.environ/OPENAI_API_KEY}
        """

    func testUnsetVariablesLoadAsAbsentAndMarkTheDeploymentsThatNeedThem() throws {
        let config = try load(Self.yaml, environment: ["SET_KEY": "sk-set"])
        let byName = Dictionary(grouping: config.deployments, by: \.modelName)
        XCTAssertEqual(byName["works"]?.first?.missingVariables, [])
        XCTAssertEqual(byName["works"]?.first?.params.apiKey, "sk-set")

        let openai = try XCTUnwrap(byName["needs-openai"])
        XCTAssertEqual(openai.count, 2, "the organization list still expands")
        for d in openai {
            XCTAssertNil(d.params.apiKey)
            XCTAssertEqual(d.missingVariables, [MissingVariable(name: "OPENAI_API_KEY", path: "model_list[1].litellm_params.api_key")])
        }
        XCTAssertEqual(byName["from-credential"]?.first?.missingVariables,
                       [MissingVariable(name: "AZURE_KEY_EU", path: "credential_list[0].credential_values.api_key")])
        XCTAssertEqual(byName["from-credential"]?.first?.params.apiBase, "https://eu.example.com")
        XCTAssertEqual(byName["own-key-over-credential"]?.first?.missingVariables, [],
                       "a deployment that sets api_key itself does not need the credential's")
        XCTAssertEqual(byName["derived"]?.first?.missingVariables,
                       [MissingVariable(name: "DERIVED_KEY", path: "model_list[4].litellm_params.api_key")],
                       "an environment_variables entry reading an unset variable is left unset")
        XCTAssertEqual(byName["info-only"]?.first?.missingVariables, [], "model_info is not needed to call")
        XCTAssertEqual(byName["info-only"]?.first?.modelInfo.all["custom_tokenizer"]?["auth_token"], .null)

        XCTAssertEqual(config.missingVariables.map(\.name), [
            "UPSTREAM_SECRET", "AZURE_KEY_EU", "OPENAI_API_KEY", "DERIVED_KEY", "HUGGINGFACE_API_KEY", "OPENAI_API_KEY",
        ])
        XCTAssertEqual(config.environmentVariables["DERIVED_KEY"], nil)

        // One warning per variable, at its first key path, naming the others.
        let warnings = config.warnings.filter { $0.message.hasPrefix("environment variable ") }
        XCTAssertEqual(warnings.count, 5, "\(warnings)")
        let openaiWarning = try XCTUnwrap(warnings.first { $0.message.contains("OPENAI_API_KEY") })
        XCTAssertEqual(openaiWarning.path, "model_list[1].litellm_params.api_key")
        XCTAssertTrue(openaiWarning.message.contains("also at model_list[6].litellm_params.api_key"), openaiWarning.message)
    }

    func testStrictRefusesAsBefore() throws {
        let error = try XCTUnwrap(loadError(Self.yaml, environment: ["SET_KEY": "sk-set"], strict: true))
        XCTAssertEqual(error.path, "environment_variables.DERIVED_KEY")
        XCTAssertEqual(error.message, "environment variable UPSTREAM_SECRET is not set (the value is os.environ/UPSTREAM_SECRET)")
    }

    func testSettingsSectionsAlwaysRefuse() throws {
        // An unset master_key must never open the gateway.
        let master = try XCTUnwrap(loadError("general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"))
        XCTAssertEqual(master.path, "general_settings.master_key")
        XCTAssertTrue(master.message.contains("LITELLM_MASTER_KEY"), master.message)
        XCTAssertEqual(try XCTUnwrap(loadError("router_settings:\n  redis_password: os.environ/NOPE\n")).path,
                       "router_settings.redis_password")
    }

    func testARequiredValueFromAnUnsetVariableStillFailsNamingIt() throws {
        let error = try XCTUnwrap(loadError("""
            model_list:
              - model_name: m
                litellm_params: {model: os.environ/MODEL_NAME}
            """))
        XCTAssertEqual(error.description,
                       "model_list[0].litellm_params.model: environment variable MODEL_NAME is not set (the value is os.environ/MODEL_NAME)")
    }

    func testSummaryListsMissingVariablesOnce() throws {
        let summary = try load(Self.yaml, environment: ["SET_KEY": "sk-set"]).summary()
        XCTAssertTrue(summary.contains("Environment variables not set (5)"), summary)
        XCTAssertTrue(summary.contains("  OPENAI_API_KEY: model_list[1].litellm_params.api_key, model_list[6].litellm_params.api_key"), summary)
        XCTAssertTrue(summary.contains("NOT CALLABLE: needs OPENAI_API_KEY"), summary)
        XCTAssertFalse(summary.contains("is not set, so this value is absent"), "not repeated as warnings: \(summary)")
    }
}
