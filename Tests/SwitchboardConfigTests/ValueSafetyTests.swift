import OpenAIWire
import SwitchboardConfig
import XCTest

/// Values that would break the process (a trap on a non-finite or negative number) are refused
/// at load, naming the key path.
final class ValueSafetyTests: XCTestCase {
    func entry(_ params: String) -> String {
        "model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, \(params)}\n"
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
