import OpenAIWire
import SwitchboardConfig
import XCTest

/// Values that would break the upstream request (header injection) or the process (a trap on a
/// non-finite or negative number) are refused at load, naming the key path.
final class ValueSafetyTests: XCTestCase {
    func entry(_ params: String) -> String {
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, \(params)}\n"
    }

    func testLineBreaksInHeaderValuesAreRefused() throws {
        let injected = try XCTUnwrap(loadError(entry(#"api_key: "sk-up\r\nX-Injected: yes""#)))
        XCTAssertEqual(injected.path, "model_list[0].litellm_params.api_key")
        XCTAssertTrue(injected.message.contains("line break"), injected.message)
        XCTAssertFalse(injected.description.contains("sk-up"), "the secret is never echoed: \(injected)")

        let viaEnvironment = try XCTUnwrap(loadError(entry("api_key: os.environ/UPSTREAM_KEY"),
                                                     environment: ["UPSTREAM_KEY": "sk-up\r\nX-Injected: yes"]))
        XCTAssertEqual(viaEnvironment.path, "model_list[0].litellm_params.api_key")
        XCTAssertFalse(viaEnvironment.description.contains("sk-up"))

        let trailing = try XCTUnwrap(loadError(entry("api_key: os.environ/K"), environment: ["K": "sk-from-file\n"]))
        XCTAssertTrue(trailing.message.contains("ends with a line break"), trailing.message)

        for (params, path) in [
            (#"organization: "org\nX: y""#, "model_list[0].litellm_params.organization"),
            (#"organization: [ok, "org\rX: y"]"#, "model_list[0].litellm_params.organization[1]"),
            (#"azure_ad_token: "t\u0000""#, "model_list[0].litellm_params.azure_ad_token"),
            (#"api_version: "2024\n""#, "model_list[0].litellm_params.api_version"),
            (#"aws_session_token: "a\u0007b""#, "model_list[0].litellm_params.aws_session_token"),
            (#"extra_headers: {X-Team: "blue\r\nX-Injected: yes"}"#, "model_list[0].litellm_params.extra_headers.X-Team"),
            (#"extra_headers: {"X-Team\r\nX-Injected": "yes"}"#, "model_list[0].litellm_params.extra_headers.X-Team\r\nX-Injected"),
            (#"api_base: "http://h/v1\r\nX-Injected: yes""#, "model_list[0].litellm_params.api_base"),
            (#"api_base: "http://h/my path""#, "model_list[0].litellm_params.api_base"),
        ] {
            let error = try XCTUnwrap(loadError(entry(params)), params)
            XCTAssertEqual(error.path, path, params)
        }
        XCTAssertEqual(try XCTUnwrap(loadError(entry(#"extra_headers: {X-N: "\u0000"}"#))).message,
                       "contains a NUL character, which header values cannot hold")
    }

    func testCredentialValuesAreCheckedAtTheCredentialsPath() throws {
        let error = try XCTUnwrap(loadError("""
            credential_list:
              - credential_name: c
                credential_values: {api_key: "k\\r\\nX-Injected: yes"}
                credential_info: {}
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, litellm_credential_name: c}
            """))
        XCTAssertEqual(error.path, "credential_list[0].credential_values.api_key")
    }

    func testTabsAndOrdinaryValuesPass() throws {
        let config = try load(entry(#"api_key: "sk-1", extra_headers: {X-A: "a\tb"}, api_base: " http://h:1/v1 ""#))
        XCTAssertEqual(config.deployments[0].params.extraHeaders.first?.value, "a\tb")
    }

    func testNonFiniteAndNegativeNumbersAreRefused() throws {
        for (params, path) in [
            ("timeout: .nan", "model_list[0].litellm_params.timeout"),
            ("timeout: .inf", "model_list[0].litellm_params.timeout"),
            ("timeout: -1", "model_list[0].litellm_params.timeout"),
            ("timeout: 0", "model_list[0].litellm_params.timeout"),
            (#"stream_timeout: "nan""#, "model_list[0].litellm_params.stream_timeout"),
            ("weight: .inf", "model_list[0].litellm_params.weight"),
            ("weight: -.inf", "model_list[0].litellm_params.weight"),
            ("rpm: .nan", "model_list[0].litellm_params.rpm"),
            ("rpm: 1e300", "model_list[0].litellm_params.rpm"),
            ("max_retries: -1", "model_list[0].litellm_params.max_retries"),
        ] {
            let error = try XCTUnwrap(loadError(entry(params)), params)
            XCTAssertEqual(error.path, path, params)
        }
        XCTAssertEqual(try XCTUnwrap(loadError(entry("timeout: .nan"))).message, "expected a finite number, got nan")

        for (yaml, path) in [
            ("router_settings:\n  timeout: .inf\n", "router_settings.timeout"),
            ("router_settings:\n  stream_timeout: 0\n", "router_settings.stream_timeout"),
            ("router_settings:\n  num_retries: -2\n", "router_settings.num_retries"),
            ("router_settings:\n  cooldown_time: .nan\n", "router_settings.cooldown_time"),
            ("router_settings:\n  redis_port: 70000\n", "router_settings.redis_port"),
            ("litellm_settings:\n  request_timeout: -5\n", "litellm_settings.request_timeout"),
            ("litellm_settings:\n  num_retries: .inf\n", "litellm_settings.num_retries"),
            ("general_settings:\n  max_request_body_bytes: -1\n", "general_settings.max_request_body_bytes"),
            ("general_settings:\n  database_connection_timeout: .nan\n", "general_settings.database_connection_timeout"),
            ("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m}\n    model_info: {input_cost_per_token: .inf}\n",
             "model_list[0].model_info.input_cost_per_token"),
        ] {
            XCTAssertEqual(try XCTUnwrap(loadError(yaml), yaml).path, path, yaml)
        }
        XCTAssertEqual(try XCTUnwrap(loadError("router_settings:\n  redis_port: 0\n")).path, "router_settings.redis_port")
        XCTAssertNotNil(loadError("", environment: ["REDIS_PORT": "70000"]).map(\.message))
    }
}
