import Foundation
import SwitchboardTesting
import XCTest

/// `os.environ/` values from a secret manager, end to end: the real `switchboard` binary (a
/// supervisor with workers, a worker alone, check-config) against fake managers and a fake
/// upstream that records the key it is sent. No secret value may ever reach the output.
final class SecretManagerEndToEndTests: XCTestCase {
    static let quiet = ["SWITCHBOARD_WATCH_CONFIG_SECONDS": "0"]

    func config(manager: String, upstream: FakeOpenAIServer, keyName: String = "OPENAI_KEY", extra: String = "") -> String {
        """
        model_list:
          - model_name: gpt
            litellm_params: {model: openai/gpt, api_base: "\(upstream.baseURL)", api_key: os.environ/\(keyName)}
        general_settings:
          key_management_system: \(manager)
        \(extra)
        """
    }

    func writeConfig(_ text: String) throws -> String {
        let path = ScratchFiles.path("switchboard-secrets", suffix: ".yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func start(_ arguments: [String], environment: [String: String]) throws -> (GatewayProcess, Int) {
        let port = freeLoopbackPort()
        var environment = environment
        for (k, v) in Self.quiet { environment[k] = v }
        let process = try GatewayProcess(arguments: arguments + ["--host", "127.0.0.1", "--port", String(port)], environment: environment)
        XCTAssertTrue(process.waitForOutput("Switchboard serving", timeout: 60), process.output)
        return (process, port)
    }

    /// Sends a chat call and returns the key the upstream was sent for it.
    func keySeenUpstream(port: Int, upstream: FakeOpenAIServer, file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        let before = upstream.requests.count
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body, file: file, line: line)
        guard upstream.requests.count > before else { return nil }
        return upstream.requests.last?.header("authorization").map { String($0.dropFirst("Bearer ".count)) }
    }

    func testSupervisorReadsVaultOnceForAllWorkersAndSIGHUPPicksUpARotatedKey() async throws {
        let upstream = try await FakeOpenAIServer()
        let vault = try await FakeVaultServer()
        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-vault-first-7f3a"])
        let path = try writeConfig(config(manager: "hashicorp_vault", upstream: upstream))
        // detailed_debug: the most the gateway ever logs, so the secret check below means something.
        let (gateway, port) = try start(["--config", path, "--num_workers", "2", "--detailed_debug"],
                                        environment: ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": vault.token,
                                                      "OPENAI_KEY": "sk-from-the-environment"])
        XCTAssertTrue(gateway.output.contains("secrets: OPENAI_KEY read from HashiCorp Vault"), gateway.output)
        let reads = { vault.requests.filter { $0.uri == "/v1/secret/data/OPENAI_KEY" }.count }
        XCTAssertEqual(reads(), 1, "the supervisor read the secret once for both workers")
        for _ in 0..<4 { XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-vault-first-7f3a") }
        let info = try TestHTTPClient(port: port).request("GET", "/model/info").body
        XCTAssertTrue(info.contains("gpt"), info)
        XCTAssertFalse(info.contains("sk-vault-first-7f3a"), info)

        // A crashed worker is restarted from the generation's hand-off: the manager is not read again.
        let supervisor = gateway.process.processIdentifier
        let victim = try XCTUnwrap(ProcessTable.children(of: supervisor).first)
        kill(victim, SIGKILL)
        XCTAssertTrue(gateway.waitForOutput("died: killed by SIGKILL"), gateway.output)
        XCTAssertTrue(ProcessTable.wait(timeout: 30) {
            let children = ProcessTable.children(of: supervisor)
            return children.count == 2 && !children.contains(victim)
        })
        XCTAssertTrue(gateway.waitForOutput("restarting worker slot"), gateway.output)
        for _ in 0..<4 { XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-vault-first-7f3a") }
        XCTAssertEqual(reads(), 1)

        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-vault-second-9c1d"])
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving", timeout: 60), gateway.output)
        XCTAssertEqual(reads(), 2)
        for _ in 0..<4 { XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-vault-second-9c1d") }

        // The manager is unreachable on the next reload: the running config keeps serving.
        await vault.shutdown()
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("generation 2 keeps serving", timeout: 60), gateway.output)
        XCTAssertTrue(gateway.output.contains("reload rejected (SIGHUP): config error: model_list[0].litellm_params.api_key: cannot read secret OPENAI_KEY from HashiCorp Vault"),
                      gateway.output)
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-vault-second-9c1d")

        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        for secret in ["sk-vault-first-7f3a", "sk-vault-second-9c1d", vault.token] {
            XCTAssertFalse(gateway.output.contains(secret), "a secret reached the output")
        }
        XCTAssertFalse(gateway.output.isEmpty)
        await upstream.shutdown()
    }

    func testASlowManagerNeitherStallsServingNorLosesASecondSIGHUP() async throws {
        let upstream = try await FakeOpenAIServer()
        let vault = try await FakeVaultServer()
        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-slow-v1-aa"])
        let path = try writeConfig(config(manager: "hashicorp_vault", upstream: upstream))
        let (gateway, port) = try start(["--config", path, "--num_workers", "1"],
                                        environment: ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": vault.token])
        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-slow-v2-bb"])
        vault.delayReads(by: .seconds(3))
        gateway.signal(SIGHUP)
        XCTAssertTrue(ProcessTable.wait(timeout: 30) { vault.requests.count == 2 }, "the reload is reading Vault")
        // Vault has not answered yet: the running generation serves with the key it has.
        let during = try keySeenUpstream(port: port, upstream: upstream)
        if !gateway.output.contains("starting generation 2") { XCTAssertEqual(during, "sk-slow-v1-aa") }
        gateway.signal(SIGHUP)  // while the first reload is still reading: queued, not lost
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving", timeout: 60), gateway.output)
        XCTAssertTrue(gateway.waitForOutput("generation 3 serving", timeout: 60), gateway.output)
        XCTAssertEqual(vault.requests.count, 3)
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-slow-v2-bb")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        XCTAssertFalse(gateway.output.contains("sk-slow-v1-aa") || gateway.output.contains("sk-slow-v2-bb"))
        await vault.shutdown()
        await upstream.shutdown()
    }

    func testAFailedReadAtStartIsAClearErrorAndNoStart() async throws {
        let upstream = try await FakeOpenAIServer()
        let vault = try await FakeVaultServer()
        let path = try writeConfig(config(manager: "hashicorp_vault", upstream: upstream))
        let gateway = try GatewayProcess(arguments: ["--config", path, "--port", String(freeLoopbackPort())],
                                         environment: ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": "hvs.not-the-token-e81"])
        XCTAssertEqual(gateway.waitForExit(timeout: 60), 1, gateway.output)
        XCTAssertTrue(gateway.output.contains(
            "config error: model_list[0].litellm_params.api_key: cannot read secret OPENAI_KEY from HashiCorp Vault: HTTP 403 (permission denied) (\(vault.address))"),
            gateway.output)
        XCTAssertFalse(gateway.output.contains("hvs.not-the-token-e81"))
        await vault.shutdown()
        await upstream.shutdown()
    }

    func testWorkerAloneReadsAzureKeyVault() async throws {
        let upstream = try await FakeOpenAIServer()
        let azure = try await FakeAzureKeyVaultServer()
        azure.setSecret("OPENAI-KEY", "sk-azure-5b2e")
        let path = try writeConfig(config(manager: "azure_key_vault", upstream: upstream, keyName: "OPENAI-KEY"))
        let (gateway, port) = try start(["worker", "--config", path], environment: [
            "AZURE_KEY_VAULT_URI": azure.url, "AZURE_AUTHORITY_HOST": azure.url, "AZURE_TENANT_ID": azure.tenant,
            "AZURE_CLIENT_ID": azure.clientID, "AZURE_CLIENT_SECRET": azure.clientSecret,
        ])
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-azure-5b2e")
        XCTAssertTrue(gateway.output.contains("secrets: OPENAI-KEY read from Azure Key Vault"), gateway.output)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        XCTAssertFalse(gateway.output.contains("sk-azure-5b2e"))
        XCTAssertFalse(gateway.output.contains(azure.clientSecret))
        await azure.shutdown()
        await upstream.shutdown()
    }

    func testSupervisorReadsAWSSecretsManager() async throws {
        let upstream = try await FakeOpenAIServer()
        let aws = try await FakeSecretsManagerServer.start(region: "eu-central-1")
        aws.setSecret("OPENAI_KEY", "sk-aws-44d0")
        let path = try writeConfig(config(manager: "aws_secret_manager", upstream: upstream,
                                          extra: "  key_management_settings: {aws_region_name: eu-central-1}"))
        let (gateway, port) = try start(["--config", path, "--num_workers", "1"], environment: [
            "AWS_ACCESS_KEY_ID": FakeAWSServer.testCredentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": FakeAWSServer.testCredentials.secretAccessKey,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": aws.endpointURL,
        ])
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-aws-44d0")
        XCTAssertEqual(aws.requests.count, 1)
        XCTAssertNil(aws.aws.signatureProblem(aws.requests[0]))
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        XCTAssertFalse(gateway.output.contains("sk-aws-44d0"))
        await aws.shutdown()
        await upstream.shutdown()
    }

    func testGoogleSecretRotationIsPickedUpWhenTheRefreshIntervalPasses() async throws {
        let upstream = try await FakeOpenAIServer()
        let google = try await FakeGoogleSecretManagerServer(project: "proj-9")
        google.setSecret("OPENAI_KEY", "sk-google-a1")
        let path = try writeConfig(config(manager: "google_secret_manager", upstream: upstream))
        let (gateway, port) = try start(["--config", path, "--num_workers", "1"], environment: [
            "GOOGLE_SECRET_MANAGER_PROJECT_ID": "proj-9", "GCE_METADATA_HOST": google.metadataHost,
            "GOOGLE_SECRET_MANAGER_ENDPOINT": google.url, "GOOGLE_SECRET_MANAGER_REFRESH_INTERVAL": "1",
            "GOOGLE_APPLICATION_CREDENTIALS": "", "HOME": "/nonexistent",
        ])
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-google-a1")
        google.setSecret("OPENAI_KEY", "sk-google-b2")
        // No SIGHUP: the refresh finds the changed value and rolls a new generation.
        XCTAssertTrue(gateway.waitForOutput("secret refresh: a secret changed: starting generation 2", timeout: 60), gateway.output)
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving", timeout: 60), gateway.output)
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-google-b2")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        XCTAssertFalse(gateway.output.contains("generation 3"), "an unchanged value rolls nothing: \(gateway.output)")
        XCTAssertFalse(gateway.output.contains("sk-google-a1") || gateway.output.contains("sk-google-b2"))
        await google.shutdown()
        await upstream.shutdown()
    }

    func testABucketConfigWithSecretsFromSecretsManagerReloadsBothOnSIGHUP() async throws {
        // One AWS identity reads the config object from S3 and the key from Secrets Manager.
        let upstream = try await FakeOpenAIServer()
        let s3 = try await FakeS3Server(region: "eu-west-1")
        let secrets = try await FakeSecretsManagerServer.start(region: "eu-west-1")
        func bucketConfig(_ alias: String) -> String {
            config(manager: "aws_secret_manager", upstream: upstream) + "\nrouter_settings:\n  model_group_alias: {\(alias): gpt}\n"
        }
        s3.put(bucket: "proxy-configs", key: "prod/config.yaml", text: bucketConfig("alias-one"))
        secrets.setSecret("OPENAI_KEY", "sk-bucket-sm-1111")
        let home = ScratchFiles.path("switchboard-secrets-home")
        let (gateway, port) = try start(["--num_workers", "2"], environment: [
            "LITELLM_CONFIG_BUCKET_NAME": "proxy-configs", "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "prod/config.yaml",
            "AWS_ACCESS_KEY_ID": FakeAWSServer.testCredentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": FakeAWSServer.testCredentials.secretAccessKey, "AWS_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL_S3": s3.endpointURL, "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets.endpointURL,
            "HOME": home, "AWS_EC2_METADATA_DISABLED": "true",
        ])
        XCTAssertTrue(gateway.output.contains("Switchboard serving s3://proxy-configs/prod/config.yaml"), gateway.output)
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-bucket-sm-1111")
        XCTAssertEqual(secrets.requests.count, 1)

        s3.put(bucket: "proxy-configs", key: "prod/config.yaml", text: bucketConfig("alias-two"))
        secrets.setSecret("OPENAI_KEY", "sk-bucket-sm-2222")
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving", timeout: 60), gateway.output)
        XCTAssertEqual(try keySeenUpstream(port: port, upstream: upstream), "sk-bucket-sm-2222")
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"alias-two","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(upstream.requests.last?.header("authorization"), "Bearer sk-bucket-sm-2222")
        XCTAssertTrue(secrets.requests.allSatisfy { secrets.aws.signatureProblem($0) == nil })
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        for secret in ["sk-bucket-sm-1111", "sk-bucket-sm-2222", FakeAWSServer.testCredentials.secretAccessKey] {
            XCTAssertFalse(gateway.output.contains(secret), "a secret reached the output")
        }
        await secrets.shutdown()
        await s3.shutdown()
        await upstream.shutdown()
    }

    func testCheckConfigReadsTheManager() async throws {
        let upstream = try await FakeOpenAIServer()
        let vault = try await FakeVaultServer()
        vault.setSecret("OPENAI_KEY", fields: ["key": "sk-check-0e0e"])
        let path = try writeConfig(config(manager: "hashicorp_vault", upstream: upstream))
        let check = try GatewayProcess(arguments: ["check-config", path, "--strict_env"],
                                       environment: ["HCP_VAULT_ADDR": vault.address, "HCP_VAULT_TOKEN": vault.token])
        XCTAssertEqual(check.waitForExit(timeout: 60), 0, check.output)
        XCTAssertTrue(check.output.contains("config OK (\(path)): 1 model groups"), check.output)
        XCTAssertTrue(check.output.contains("secrets: OPENAI_KEY read from HashiCorp Vault"), check.output)
        XCTAssertEqual(vault.requests.count, 1)
        XCTAssertFalse(check.output.contains("sk-check-0e0e"), check.output)
        await vault.shutdown()
        await upstream.shutdown()
    }
}
