import OpenAIWire
import SwitchboardConfig
import XCTest

/// A resolver that answers from a dictionary and records what it was asked.
private final class DictionaryResolver: SecretResolving, @unchecked Sendable {
    let values: [String: String]
    let failing: String?
    var asked: [SecretRequest] = []

    init(_ values: [String: String], failing: String? = nil) {
        self.values = values
        self.failing = failing
    }

    func resolve(_ request: SecretRequest, fresh: Bool) async throws(SecretResolutionError) -> ResolvedSecrets {
        asked.append(request)
        if let failing, request.names.contains(failing) {
            throw SecretResolutionError(name: failing, system: request.settings.system, reason: "HTTP 403 (permission denied)")
        }
        return ResolvedSecrets(values: values.filter { request.names.contains($0.key) })
    }
}

final class SecretManagerConfigTests: XCTestCase {
    let config = """
        model_list:
          - model_name: m
            litellm_params:
              model: openai/m
              api_key: os.environ/OPENAI_KEY
              api_base: os.environ/OPENAI_BASE
        general_settings:
          master_key: os.environ/MASTER
          key_management_system: hashicorp_vault
          key_management_settings:
            hosted_keys: [OPENAI_KEY, MASTER]
        environment_variables:
          HCP_VAULT_ADDR: http://vault.internal:8200
        """

    func testRequestNamesHostedKeysWithTheirFirstPaths() throws {
        let request = try XCTUnwrap(ConfigLoader(environment: ["HCP_VAULT_TOKEN": "t"]).secretRequest(yaml: config))
        XCTAssertEqual(request.settings.system, .hashicorpVault)
        XCTAssertEqual(request.names, ["OPENAI_KEY", "MASTER"])
        XCTAssertEqual(request.paths["OPENAI_KEY"], "model_list[0].litellm_params.api_key")
        XCTAssertEqual(request.paths["MASTER"], "general_settings.master_key")
        // The manager's own settings may come from environment_variables, as LiteLLM sets them first.
        XCTAssertEqual(request.environment["HCP_VAULT_ADDR"], "http://vault.internal:8200")
        XCTAssertEqual(request.environment["HCP_VAULT_TOKEN"], "t")
    }

    func testNoManagerNoRequest() throws {
        XCTAssertNil(try ConfigLoader(environment: [:]).secretRequest(yaml: "model_list: []\n"))
        let writeOnly = """
            general_settings:
              key_management_system: aws_secret_manager
              key_management_settings: {access_mode: write_only}
            """
        XCTAssertNil(try ConfigLoader(environment: [:]).secretRequest(yaml: writeOnly))
    }

    func testManagerValuesWinOverTheEnvironmentAndMissingOnesFallBack() async throws {
        let resolver = DictionaryResolver(["OPENAI_KEY": "sk-from-vault", "MASTER": "sk-master-vault"])
        let (loaded, secrets) = try await ConfigLoader(
            environment: ["OPENAI_KEY": "sk-from-env", "OPENAI_BASE": "http://base", "MASTER": "sk-env-master"],
            exportsEnvironmentVariables: false
        ).load(yaml: config, resolver: resolver)
        XCTAssertEqual(loaded.deployments[0].params.apiKey, "sk-from-vault")
        // Not a hosted key: read from the environment, never asked of the manager.
        XCTAssertEqual(loaded.deployments[0].params.apiBase, "http://base")
        XCTAssertEqual(loaded.generalSettings.masterKey, "sk-master-vault")
        XCTAssertEqual(resolver.asked.first?.names, ["OPENAI_KEY", "MASTER"])
        XCTAssertEqual(secrets.values.count, 2)
        XCTAssertEqual(loaded.secretManager?.system, .hashicorpVault)
        XCTAssertEqual(loaded.secretManager?.hostedKeys ?? [], ["OPENAI_KEY", "MASTER"])
    }

    func testAFailureNamesTheSecretThePathAndTheManagerNotTheValue() async throws {
        let resolver = DictionaryResolver(["MASTER": "sk-master-vault"], failing: "OPENAI_KEY")
        do {
            _ = try await ConfigLoader(environment: ["OPENAI_BASE": "b"], exportsEnvironmentVariables: false)
                .load(yaml: config, resolver: resolver)
            XCTFail("expected a failure")
        } catch {
            XCTAssertEqual(error.description,
                           "model_list[0].litellm_params.api_key: cannot read secret OPENAI_KEY from HashiCorp Vault: HTTP 403 (permission denied)")
        }
    }

    func testAnErrorAboutAManagerValueHidesIt() async throws {
        let yaml = """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, rpm: os.environ/RPM}
            general_settings: {key_management_system: google_secret_manager}
            """
        do {
            _ = try await ConfigLoader(environment: [:], exportsEnvironmentVariables: false)
                .load(yaml: yaml, resolver: DictionaryResolver(["RPM": "hunter2-secret"]))
            XCTFail("expected a failure")
        } catch {
            XCTAssertTrue(error.description.hasPrefix("model_list[0].litellm_params.rpm"), error.description)
            XCTAssertFalse(error.description.contains("hunter2-secret"), error.description)
            XCTAssertTrue(error.description.contains("[secret value hidden]"), error.description)
        }
    }

    func testSettingsErrorsNameTheKeyPath() {
        func error(_ general: String) -> String {
            do {
                _ = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: "general_settings:\n" + general)
                return "no error"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(error("  key_management_system: vaultz\n"),
                       "general_settings.key_management_system: \"vaultz\" is not a key management system; use one of aws_secret_manager, azure_key_vault, google_secret_manager, hashicorp_vault")
        XCTAssertEqual(error("  key_management_system: aws_kms\n"),
                       "general_settings.key_management_system: \"aws_kms\" is not supported by Switchboard; use one of aws_secret_manager, azure_key_vault, google_secret_manager, hashicorp_vault")
        XCTAssertEqual(error("  key_management_system: azure_key_vault\n  key_management_settings: {access_mode: sometimes}\n"),
                       "general_settings.key_management_settings.access_mode: \"sometimes\" is not an access mode; use read_only, write_only or read_and_write")
        XCTAssertTrue(error("  key_management_system: aws_secret_manager\n  key_management_settings: {aws_role_name: r}\n")
            .hasPrefix("general_settings.key_management_settings.aws_role_name: not supported"))
    }

    func testLegacyAzureFlagAndWarnings() throws {
        let loaded = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: """
            general_settings:
              use_azure_key_vault: true
              key_management_settings: {store_virtual_keys: true, primary_secret_name: p}
            """)
        XCTAssertEqual(loaded.secretManager?.system, .azureKeyVault)
        let warnings = loaded.warnings.map(\.description)
        XCTAssertTrue(warnings.contains("general_settings.key_management_settings.store_virtual_keys: Switchboard never writes to the secret manager: not used"), "\(warnings)")
        XCTAssertTrue(warnings.contains("general_settings.key_management_settings.primary_secret_name: only used with aws_secret_manager"), "\(warnings)")
    }

    func testResolvedSecretsRoundTripAndNeverDescribeValues() throws {
        let secrets = ResolvedSecrets(values: ["A": "sk-\"quoted\"\n", "B": "ünïcode"])
        XCTAssertEqual(try ResolvedSecrets(decoding: secrets.encoded()), secrets)
        XCTAssertFalse("\(secrets)".contains("sk-"))
        XCTAssertThrowsError(try ResolvedSecrets(decoding: Array("{\"A\": 1}".utf8))) { error in
            XCTAssertFalse("\(error)".contains("1}"))
        }
    }
}
