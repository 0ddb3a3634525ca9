import XCTest
import Foundation
import OpenAIWire
import Server
import SwitchboardTesting

/// The `switchboard` binary as users run it: startup log, check-config, bad configs, signals.
final class CLITests: XCTestCase {
    func writeConfig(_ yaml: String) throws -> String {
        let path = ScratchFiles.path("switchboard", suffix: ".yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testServesConfigAndLogsLiteLLMStartupLine() throws {
        let path = try writeConfig("""
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: openai/gpt-4o, mock_response: "hello"}
              - model_name: embed
                litellm_params: {model: openai/text-embedding-3-small, mock_response: [0.1]}
            """)
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(port)])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        XCTAssertTrue(gateway.output.contains("Proxy initialized with Config, Set models:"), gateway.output)
        XCTAssertTrue(gateway.output.contains("    gpt-4o\n    embed"), gateway.output)
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
    }

    func testDetailedDebugLogsRequestsWithCredentialsRedacted() throws {
        let path = try writeConfig("""
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, mock_response: "debug answer"}
            general_settings: {master_key: sk-debug-master}
            colour_scheme: blue
            """)
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(port), "--detailed_debug", "--num_workers", "1"])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        XCTAssertTrue(gateway.output.contains("colour_scheme"), "unknown keys are warned about: \(gateway.output)")
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", headers: [("Authorization", "Bearer sk-debug-master")],
                                                      body: #"{"model":"m","messages":[{"role":"user","content":"trace me"}]}"#)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(gateway.waitForOutput("debug answer", timeout: 5), gateway.output)
        XCTAssertTrue(gateway.output.contains("trace me"), gateway.output)
        XCTAssertTrue(gateway.output.contains("<redacted>"), gateway.output)
        XCTAssertFalse(gateway.output.contains("sk-debug-master"), "the master key must never be logged: \(gateway.output)")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0)
    }

    func testEnvironmentVariablesSectionFeedsProviderDefaults() async throws {
        let upstream = try await FakeOpenAIServer()
        let path = try writeConfig("""
            environment_variables:
              OPENAI_API_BASE: \(upstream.baseURL)
              OPENAI_API_KEY: sk-from-environment-variables
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: gpt-4o}
            """)
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(port)])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(upstream.requests.last?.header("authorization"), "Bearer sk-from-environment-variables")
        XCTAssertEqual(upstream.requests.last?.json?["model"]?.stringValue, "gpt-4o")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0)
        await upstream.shutdown()
    }

    func testSIGTERMLetsInFlightCallsFinish() async throws {
        let upstream = try await FakeOpenAIServer { request in
            .sse(events: FakeOpenAIServer.streamEvents(model: "m", words: ["slow", " answer"], includeUsage: false), delay: .milliseconds(300))
        }
        let path = try writeConfig("""
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
            """)
        let port = freeLoopbackPort()
        // One worker: once it logs "draining", no descriptor of the port is left open anywhere, so
        // the connect below is refused deterministically (SupervisorTests covers several workers).
        let gateway = try GatewayProcess(arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        let client = try TestHTTPClient(port: port)
        try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(try client.readHead().status, 200)
        gateway.signal(SIGTERM)
        XCTAssertTrue(gateway.waitForOutput("draining 1 in-flight"), gateway.output)
        XCTAssertThrowsError(try TestHTTPClient(port: port), "no new connections once draining")
        var body = ""
        while let chunk = try client.readChunk() { body += chunk }
        XCTAssertTrue(body.hasSuffix("data: [DONE]\n\n"), "the stream in flight completes: \(body)")
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        XCTAssertTrue(gateway.output.contains("Switchboard stopped"))
        await upstream.shutdown()
    }

    func testConfigFilePathEnvironmentVariable() throws {
        let path = try writeConfig("model_list:\n  - model_name: from-env\n    litellm_params: {model: openai/x, mock_response: hi}\n")
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--host", "127.0.0.1", "--port", String(port)], environment: ["CONFIG_FILE_PATH": path])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        let models = try TestHTTPClient(port: port).request("GET", "/v1/models")
        XCTAssertTrue(models.body.contains("from-env"), models.body)
        gateway.signal(SIGINT)
        XCTAssertEqual(gateway.waitForExit(), 0)
    }

    func testBadConfigExitsNamingTheKeyPath() throws {
        let path = try writeConfig("""
            model_list:
              - model_name: a
                litellm_params: {model: openai/a}
              - model_name: b
                litellm_params: {model: openai/b}
              - model_name: c
                litellm_params: {model: openai/c, rpm: fast}
            """)
        let serve = try GatewayProcess(arguments: ["--config", path, "--port", String(freeLoopbackPort())])
        XCTAssertEqual(serve.waitForExit(), 1)
        XCTAssertTrue(serve.output.contains(#"model_list[2].litellm_params.rpm: expected integer, got "fast""#), serve.output)
        let check = try GatewayProcess(arguments: ["check-config", path])
        XCTAssertEqual(check.waitForExit(), 1)
        XCTAssertTrue(check.output.contains("model_list[2].litellm_params.rpm"), check.output)
        let missing = try GatewayProcess(arguments: ["check-config", "/nonexistent/config.yaml"])
        XCTAssertEqual(missing.waitForExit(), 1)
        XCTAssertTrue(missing.output.contains("/nonexistent/config.yaml"), missing.output)
    }

    func testCheckConfigPrintsGroupsWithoutSecrets() throws {
        let path = try writeConfig("""
            model_list:
              - model_name: gpt-4o
                litellm_params: {model: azure/gpt-4o-eu, api_base: "https://eu.example.com/", api_key: os.environ/SB_TEST_KEY, rpm: 6}
              - model_name: gpt-4o
                litellm_params: {model: azure/gpt-4o-ca, api_base: "https://ca.example.com/", api_key: os.environ/SB_TEST_KEY, rpm: 6}
            """)
        let check = try GatewayProcess(arguments: ["check-config", path], environment: ["SB_TEST_KEY": "super-secret-key-value"])
        XCTAssertEqual(check.waitForExit(), 0, check.output)
        XCTAssertTrue(check.output.contains("gpt-4o"))
        XCTAssertTrue(check.output.contains("azure/gpt-4o-ca"))
        XCTAssertFalse(check.output.contains("super-secret-key-value"))
    }

    func testDemoConfigFileMatchesTheBuiltInOne() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("deploy/demo-config.yaml"), encoding: .utf8)
        XCTAssertEqual(file, DemoConfig.yaml + "\n")
    }

    func testNoConfigServesTheDemo() throws {
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--host", "127.0.0.1", "--port", String(port)], environment: ["CONFIG_FILE_PATH": ""])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertTrue(r.body.contains("Hello from"), r.body)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0)
    }

    func testInvalidNumericEnvironmentSettingsExitNamingThem() throws {
        let path = try writeConfig("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, mock_response: hi}\n")
        for (name, value) in [("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "-1"), ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "nan"),
                              ("SWITCHBOARD_DRAIN_SECONDS", "inf"), ("SWITCHBOARD_STRICT_ENV", "maybe")] {
            let gateway = try GatewayProcess(arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(freeLoopbackPort())],
                                             environment: [name: value])
            XCTAssertEqual(gateway.waitForExit(), 1, "\(name)=\(value): \(gateway.output)")
            XCTAssertTrue(gateway.output.contains("environment variable \(name) must be"), gateway.output)
            XCTAssertFalse(gateway.output.contains("Switchboard serving"), gateway.output)
        }
    }

    func testHeaderInjectionInTheConfigIsRefusedAtStart() throws {
        let path = try writeConfig(#"""
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "http://127.0.0.1:9/v1", api_key: "sk-up\r\nX-Injected: yes"}
            """#)
        let serve = try GatewayProcess(arguments: ["--config", path, "--port", String(freeLoopbackPort())])
        XCTAssertEqual(serve.waitForExit(), 1)
        XCTAssertTrue(serve.output.contains("model_list[0].litellm_params.api_key: contains a line break"), serve.output)
        XCTAssertFalse(serve.output.contains("sk-up"), serve.output)
    }

    func testUnsetVariablesWarnAtStartListInCheckConfigAndRefuseWhenStrict() throws {
        let path = try writeConfig("""
            model_list:
              - model_name: served
                litellm_params: {model: openai/m, mock_response: "still here"}
              - model_name: azure-eu
                litellm_params: {model: openai/eu, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/SB_UNSET_EU_KEY}
              - model_name: azure-ca
                litellm_params: {model: openai/ca, api_base: "http://127.0.0.1:9/v1", api_key: os.environ/SB_UNSET_EU_KEY}
            """)
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(port)])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving"), gateway.output)
        let warnings = gateway.output.components(separatedBy: "\n").filter { $0.contains("SB_UNSET_EU_KEY") }
        XCTAssertEqual(warnings.count, 1, "one warning per variable: \(gateway.output)")
        XCTAssertTrue(warnings[0].contains("model_list[1].litellm_params.api_key"), warnings[0])
        XCTAssertTrue(warnings[0].contains("model_list[2].litellm_params.api_key"), warnings[0])
        let ok = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"served","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(ok.status, 200, ok.body)
        let refused = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"azure-eu","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(refused.status, 500, refused.body)
        XCTAssertTrue(refused.body.contains("SB_UNSET_EU_KEY"), refused.body)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0)

        let check = try GatewayProcess(arguments: ["check-config", path])
        XCTAssertEqual(check.waitForExit(), 0, check.output)
        XCTAssertTrue(check.output.contains("Environment variables not set (1)"), check.output)
        XCTAssertTrue(check.output.contains("  SB_UNSET_EU_KEY: model_list[1].litellm_params.api_key, model_list[2].litellm_params.api_key"), check.output)
        XCTAssertTrue(check.output.contains("environment variables not set: SB_UNSET_EU_KEY"), check.output)

        for (arguments, environment) in [(["check-config", "--strict_env", path], [String: String]()),
                                         (["check-config", path], ["SWITCHBOARD_STRICT_ENV": "1"]),
                                         (["--config", path, "--strict_env", "--port", String(freeLoopbackPort())], [:]),
                                         (["--config", path, "--port", String(freeLoopbackPort())], ["SWITCHBOARD_STRICT_ENV": "true"])] {
            let strict = try GatewayProcess(arguments: arguments, environment: environment)
            XCTAssertEqual(strict.waitForExit(), 1, "\(arguments) \(environment): \(strict.output)")
            XCTAssertTrue(strict.output.contains(
                "model_list[1].litellm_params.api_key: environment variable SB_UNSET_EU_KEY is not set"), strict.output)
        }
    }
}
