import CloudAuth
import OpenAIWire
import SecretManagers
import SwitchboardConfig
import SwitchboardTesting
import XCTest

/// Each client against a fake of its service speaking the real wire protocol.
final class SecretManagerClientTests: XCTestCase {
    let fetcher = HTTPFetcher(timeout: .seconds(10))

    // MARK: HashiCorp Vault

    func testVaultReadsKVv2WithTokenNamespaceMountAndPrefix() async throws {
        let vault = try await FakeVaultServer(namespace: "team-a")
        defer { Task { await vault.shutdown() } }
        vault.setSecret("llm/OPENAI_KEY", fields: ["key": "sk-vault-1"], mount: "kv")
        vault.setSecret("llm/NO_KEY_FIELD", fields: ["value": "x"], mount: "kv")
        let client = try HashiCorpVaultClient(environment: [
            "HCP_VAULT_ADDR": vault.address + "/", "HCP_VAULT_TOKEN": vault.token, "HCP_VAULT_NAMESPACE": "team-a",
            "HCP_VAULT_MOUNT_NAME": "kv", "HCP_VAULT_PATH_PREFIX": "/llm/",
        ], fetcher: fetcher)
        let value = try await client.read("OPENAI_KEY")
        XCTAssertEqual(value, "sk-vault-1")
        let missing = try await client.read("ABSENT")
        XCTAssertNil(missing)
        // LiteLLM reads the field "key"; a secret without it is absent.
        let noKey = try await client.read("NO_KEY_FIELD")
        XCTAssertNil(noKey)
        let request = try XCTUnwrap(vault.requests.first)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.uri, "/v1/kv/data/llm/OPENAI_KEY")
        XCTAssertEqual(request.header("x-vault-token"), vault.token)
        XCTAssertEqual(request.header("x-vault-namespace"), "team-a")
    }

    func testVaultAppRoleLogsInOnceForAllReads() async throws {
        let vault = try await FakeVaultServer(appRole: (roleID: "role-1", secretID: "secret-1"))
        defer { Task { await vault.shutdown() } }
        vault.setSecret("A", fields: ["key": "a-value"])
        vault.setSecret("B", fields: ["key": "b-value"])
        let client = try HashiCorpVaultClient(environment: [
            "HCP_VAULT_ADDR": vault.address, "HCP_VAULT_APPROLE_ROLE_ID": "role-1", "HCP_VAULT_APPROLE_SECRET_ID": "secret-1",
        ], fetcher: fetcher)
        async let a = client.read("A")
        async let b = client.read("B")
        let (va, vb) = try await (a, b)
        XCTAssertEqual(va, "a-value")
        XCTAssertEqual(vb, "b-value")
        let logins = vault.requests.filter { $0.method == "POST" }
        XCTAssertEqual(logins.count, 1)
        XCTAssertEqual(logins.first?.uri, "/v1/auth/approle/login")
        XCTAssertEqual(logins.first?.json?["role_id"]?.stringValue, "role-1")
        XCTAssertEqual(logins.first?.json?["secret_id"]?.stringValue, "secret-1")
        XCTAssertTrue(vault.requests.filter { $0.method == "GET" }.allSatisfy { $0.header("x-vault-token") == vault.appRoleToken })
    }

    func testVaultFailuresSayWhyWithoutSecrets() async throws {
        let vault = try await FakeVaultServer(appRole: (roleID: "role-1", secretID: "secret-1"))
        defer { Task { await vault.shutdown() } }
        let badToken = try HashiCorpVaultClient(environment: ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": "hvs.wrong"], fetcher: fetcher)
        await assertFailure(try await badToken.read("A"), "HTTP 403 (permission denied)")
        let badRole = try HashiCorpVaultClient(environment: [
            "HCP_VAULT_ADDR": vault.address, "HCP_VAULT_APPROLE_ROLE_ID": "role-1", "HCP_VAULT_APPROLE_SECRET_ID": "not-it",
        ], fetcher: fetcher)
        await assertFailure(try await badRole.read("A"), "AppRole login (POST \(vault.address)/v1/auth/approle/login): HTTP 400 (invalid role or secret ID)")
        XCTAssertThrowsError(try HashiCorpVaultClient(environment: [:], fetcher: fetcher)) { error in
            XCTAssertTrue("\(error)".hasPrefix("no Vault credentials"), "\(error)")
        }
    }

    // MARK: Azure Key Vault

    func testAzureTakesOneClientCredentialsTokenAndReadsSecrets() async throws {
        let azure = try await FakeAzureKeyVaultServer()
        defer { Task { await azure.shutdown() } }
        azure.setSecret("AZURE-API-KEY", "azure-key-1")
        azure.setSecret("OTHER", "other-1")
        let client = try AzureKeyVaultClient(environment: azureEnvironment(azure), fetcher: fetcher)
        async let a = client.read("AZURE-API-KEY")
        async let b = client.read("OTHER")
        let (va, vb) = try await (a, b)
        XCTAssertEqual(va, "azure-key-1")
        XCTAssertEqual(vb, "other-1")
        let missing = try await client.read("ABSENT")
        XCTAssertNil(missing)
        // Key Vault names hold no underscore: never asked, the environment is used.
        let underscored = try await client.read("AZURE_API_KEY")
        XCTAssertNil(underscored)
        let tokenRequests = azure.requests.filter { $0.method == "POST" }
        XCTAssertEqual(tokenRequests.count, 1)
        XCTAssertEqual(tokenRequests.first?.uri, "/\(azure.tenant)/oauth2/v2.0/token")
        let form = tokenRequests.first?.formFields ?? [:]
        XCTAssertEqual(form["grant_type"], "client_credentials")
        XCTAssertEqual(form["scope"], "https://vault.azure.net/.default")
        XCTAssertEqual(form["client_id"], azure.clientID)
        let gets = azure.requests.filter { $0.method == "GET" }
        XCTAssertEqual(Set(gets.map(\.uri)), ["/secrets/AZURE-API-KEY?api-version=7.4", "/secrets/OTHER?api-version=7.4", "/secrets/ABSENT?api-version=7.4"])
        XCTAssertTrue(gets.allSatisfy { $0.header("authorization") == "Bearer \(azure.issuedToken)" })
    }

    func testAzureRefusedClientSecretSaysSo() async throws {
        let azure = try await FakeAzureKeyVaultServer()
        defer { Task { await azure.shutdown() } }
        var environment = azureEnvironment(azure)
        environment["AZURE_CLIENT_SECRET"] = "wrong-secret"
        let client = try AzureKeyVaultClient(environment: environment, fetcher: fetcher)
        await assertFailure(try await client.read("A"),
                            "Entra token for the client secret of client-1 (AZURE_CLIENT_SECRET): HTTP 401 (AADSTS7000215: Invalid client secret provided.)")
        XCTAssertThrowsError(try AzureKeyVaultClient(environment: [:], fetcher: fetcher))
    }

    func testAzureManagedIdentityFromInstanceMetadataOrAppService() async throws {
        let azure = try await FakeAzureKeyVaultServer()
        defer { Task { await azure.shutdown() } }
        azure.setSecret("K", "managed-1")
        // No service principal: the instance metadata service (a VM, an AKS node).
        let vm = try AzureKeyVaultClient(environment: ["AZURE_KEY_VAULT_URI": azure.url, "AZURE_POD_IDENTITY_AUTHORITY_HOST": azure.url,
                                                       "AZURE_CLIENT_ID": "user-assigned-1"], fetcher: fetcher)
        let fromVM = try await vm.read("K")
        XCTAssertEqual(fromVM, "managed-1")
        let imds = try XCTUnwrap(azure.requests.first)
        XCTAssertEqual(imds.uri, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=user-assigned-1")
        XCTAssertEqual(imds.header("metadata"), "true")
        // App Service, Container Apps: IDENTITY_ENDPOINT and IDENTITY_HEADER.
        let app = try AzureKeyVaultClient(environment: ["AZURE_KEY_VAULT_URI": azure.url, "IDENTITY_ENDPOINT": azure.url + "/msi/token",
                                                        "IDENTITY_HEADER": azure.identityHeader], fetcher: fetcher)
        let fromApp = try await app.read("K")
        XCTAssertEqual(fromApp, "managed-1")
        XCTAssertTrue(azure.requests.contains { $0.uri.hasPrefix("/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net") })
        let wrongHeader = try AzureKeyVaultClient(environment: ["AZURE_KEY_VAULT_URI": azure.url, "IDENTITY_ENDPOINT": azure.url + "/msi/token",
                                                                "IDENTITY_HEADER": "not-it"], fetcher: fetcher)
        await assertFailure(try await wrongHeader.read("K"),
                            "Entra token for the managed identity (IDENTITY_ENDPOINT): HTTP 400 (Required metadata header not specified)")
    }

    // MARK: AWS Secrets Manager

    func testAWSGetSecretValueIsSignedJSON11() async throws {
        let aws = try await FakeSecretsManagerServer.start(region: "eu-west-1")
        defer { Task { await aws.shutdown() } }
        aws.setSecret("OPENAI_KEY", "sk-aws-1")
        let client = try AWSSecretsManagerClient(settings: SecretManagerSettings(system: .awsSecretManager),
                                                 environment: awsEnvironment(aws, region: "eu-west-1"), fetcher: fetcher)
        let value = try await client.read("OPENAI_KEY")
        XCTAssertEqual(value, "sk-aws-1")
        let missing = try await client.read("ABSENT")
        XCTAssertNil(missing)
        let request = try XCTUnwrap(aws.requests.first)
        XCTAssertNil(aws.aws.signatureProblem(request))
        XCTAssertEqual(request.header("x-amz-target"), "secretsmanager.GetSecretValue")
        XCTAssertEqual(request.header("content-type"), "application/x-amz-json-1.1")
        XCTAssertEqual(request.json, .object([JSONMember("SecretId", .string("OPENAI_KEY"))]))
        XCTAssertTrue(request.header("authorization")?.contains("/eu-west-1/secretsmanager/aws4_request") ?? false)
    }

    func testAWSPrimarySecretIsReadOnce() async throws {
        let aws = try await FakeSecretsManagerServer.start()
        defer { Task { await aws.shutdown() } }
        aws.setSecret("litellm-keys", #"{"A": "a-1", "B": "b-1"}"#)
        let client = try AWSSecretsManagerClient(
            settings: SecretManagerSettings(system: .awsSecretManager, primarySecretName: "litellm-keys", awsRegionName: "us-east-1"),
            environment: awsEnvironment(aws, region: nil), fetcher: fetcher)
        async let a = client.read("A")
        async let b = client.read("B")
        async let c = client.read("C")
        let values = try await [a, b, c]
        XCTAssertEqual(values, ["a-1", "b-1", nil])
        XCTAssertEqual(aws.requests.count, 1)
    }

    func testAWSWrongCredentialsFail() async throws {
        let aws = try await FakeSecretsManagerServer.start()
        defer { Task { await aws.shutdown() } }
        var environment = awsEnvironment(aws, region: "us-east-1")
        environment["AWS_SECRET_ACCESS_KEY"] = "not-the-key"
        let client = try AWSSecretsManagerClient(settings: SecretManagerSettings(system: .awsSecretManager),
                                                 environment: environment, fetcher: fetcher)
        do {
            _ = try await client.read("A")
            XCTFail("expected a failure")
        } catch {
            XCTAssertTrue(error.description.hasPrefix("HTTP 403 (InvalidSignatureException"), error.description)
            XCTAssertFalse(error.description.contains("not-the-key"))
        }
        XCTAssertThrowsError(try AWSSecretsManagerClient(settings: SecretManagerSettings(system: .awsSecretManager),
                                                         environment: [:], fetcher: fetcher)) { error in
            XCTAssertTrue("\(error)".hasPrefix("no AWS region"), "\(error)")
        }
    }

    // MARK: Google Secret Manager

    func testGoogleUsesAMetadataTokenAndDecodesThePayload() async throws {
        let google = try await FakeGoogleSecretManagerServer(project: "p-1")
        defer { Task { await google.shutdown() } }
        google.setSecret("OPENAI_KEY", "sk-google-ünï")
        let client = try GoogleSecretManagerClient(environment: googleEnvironment(google), fetcher: fetcher)
        async let a = client.read("OPENAI_KEY")
        async let b = client.read("ABSENT")
        let (va, vb) = try await (a, b)
        XCTAssertEqual(va, "sk-google-ünï")
        XCTAssertNil(vb)
        let tokenRequests = google.requests.filter { $0.uri.hasPrefix("/computeMetadata/") }
        XCTAssertEqual(tokenRequests.count, 1)
        XCTAssertEqual(tokenRequests.first?.header("metadata-flavor"), "Google")
        let access = google.requests.filter { $0.uri.hasPrefix("/v1/") }
        XCTAssertEqual(Set(access.map(\.uri)), ["/v1/projects/p-1/secrets/OPENAI_KEY/versions/latest:access",
                                                "/v1/projects/p-1/secrets/ABSENT/versions/latest:access"])
        XCTAssertTrue(access.allSatisfy { $0.header("authorization") == "Bearer \(google.issuedToken)" })
        XCTAssertThrowsError(try GoogleSecretManagerClient(environment: [:], fetcher: fetcher)) { error in
            XCTAssertEqual("\(error)", "GOOGLE_SECRET_MANAGER_PROJECT_ID is not set")
        }
    }

    // MARK: The resolver

    func testResolverCachesUntilFreshAndNeverAsksForItsOwnSettings() async throws {
        let vault = try await FakeVaultServer()
        defer { Task { await vault.shutdown() } }
        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-1"])
        let resolver = SecretManagerClients.resolver(fetcher: fetcher)
        let environment = ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": vault.token, "HCP_VAULT_REFRESH_INTERVAL": "3600"]
        let request = SecretRequest(settings: SecretManagerSettings(system: .hashicorpVault),
                                    names: ["OPENAI_KEY", "HCP_VAULT_TOKEN", "ABSENT"], environment: environment)
        let first = try await resolver.resolve(request, fresh: true)
        XCTAssertEqual(first.values, ["OPENAI_KEY": "sk-1"])
        XCTAssertEqual(vault.requests.map(\.uri).sorted(), ["/v1/secret/data/ABSENT", "/v1/secret/data/OPENAI_KEY"])
        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-2"])
        let cached = try await resolver.resolve(request, fresh: false)
        XCTAssertEqual(cached.values, ["OPENAI_KEY": "sk-1"])
        XCTAssertEqual(vault.requests.count, 2)
        let fresh = try await resolver.resolve(request, fresh: true)
        XCTAssertEqual(fresh.values, ["OPENAI_KEY": "sk-2"])
        XCTAssertEqual(vault.requests.count, 4)
        XCTAssertEqual(SecretManagerResolver.refreshSeconds(for: .hashicorpVault, environment: environment), 3600)
        XCTAssertEqual(SecretManagerResolver.refreshSeconds(for: .azureKeyVault, environment: [:]), 86_400)
    }

    func testResolverFailureNamesSecretManagerAndPlace() async throws {
        let vault = try await FakeVaultServer()
        defer { Task { await vault.shutdown() } }
        let resolver = SecretManagerClients.resolver(fetcher: fetcher)
        let request = SecretRequest(settings: SecretManagerSettings(system: .hashicorpVault), names: ["OPENAI_KEY"],
                                    environment: ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": "hvs.wrong"])
        do {
            _ = try await resolver.resolve(request, fresh: true)
            XCTFail("expected a failure")
        } catch {
            XCTAssertEqual(error.description, "cannot read secret OPENAI_KEY from HashiCorp Vault: HTTP 403 (permission denied) (\(vault.address))")
        }
        let unusable = SecretRequest(settings: SecretManagerSettings(system: .hashicorpVault), names: ["A"], environment: [:])
        do {
            _ = try await resolver.resolve(unusable, fresh: true)
            XCTFail("expected a failure")
        } catch {
            XCTAssertNil(error.name)
            XCTAssertTrue(error.description.hasPrefix("HashiCorp Vault (general_settings.key_management_system: hashicorp_vault): no Vault credentials"), error.description)
        }
    }

    // MARK: Helpers

    func azureEnvironment(_ azure: FakeAzureKeyVaultServer) -> [String: String] {
        ["AZURE_KEY_VAULT_URI": azure.url, "AZURE_AUTHORITY_HOST": azure.url, "AZURE_TENANT_ID": azure.tenant,
         "AZURE_CLIENT_ID": azure.clientID, "AZURE_CLIENT_SECRET": azure.clientSecret]
    }

    func awsEnvironment(_ aws: FakeSecretsManagerServer, region: String?) -> [String: String] {
        var environment = ["AWS_ACCESS_KEY_ID": FakeAWSServer.testCredentials.accessKeyID,
                           "AWS_SECRET_ACCESS_KEY": FakeAWSServer.testCredentials.secretAccessKey,
                           "AWS_ENDPOINT_URL_SECRETS_MANAGER": aws.endpointURL]
        if let region { environment["AWS_REGION"] = region }
        return environment
    }

    func googleEnvironment(_ google: FakeGoogleSecretManagerServer) -> [String: String] {
        ["GOOGLE_SECRET_MANAGER_PROJECT_ID": google.project, "GCE_METADATA_HOST": google.metadataHost,
         "GOOGLE_SECRET_MANAGER_ENDPOINT": google.url]
    }

    func assertFailure(_ read: @autoclosure () async throws -> String?, _ expected: String,
                       file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await read()
            XCTFail("expected a failure", file: file, line: line)
        } catch {
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }
}
