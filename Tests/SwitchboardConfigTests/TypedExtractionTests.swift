import OpenAIWire
import SwitchboardConfig
import XCTest

final class TypedExtractionTests: XCTestCase {
    private func entry(_ params: String, index: Int = 0) -> String {
        let filler = String(repeating: "  - model_name: filler\n    litellm_params: {model: openai/f}\n", count: index)
        return "model_list:\n\(filler)  - model_name: m\n    litellm_params:\n      model: openai/m\n"
            + params.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n") + "\n"
    }

    func testWrongTypeNamesPathAndValue() throws {
        let error = try XCTUnwrap(loadError(entry("rpm: fast", index: 2)))
        XCTAssertEqual(error, ConfigError(path: "model_list[2].litellm_params.rpm", message: #"expected integer, got "fast""#))
        XCTAssertEqual(error.description, #"model_list[2].litellm_params.rpm: expected integer, got "fast""#)

        let list = try XCTUnwrap(loadError(entry("api_base: [a, b]")))
        XCTAssertEqual(list.description, "model_list[0].litellm_params.api_base: expected string, got a list")
        let bool = try XCTUnwrap(loadError(entry("weight: yes please")))
        XCTAssertEqual(bool.description, #"model_list[0].litellm_params.weight: expected number, got "yes please""#)
        let headers = try XCTUnwrap(loadError(entry("extra_headers: just-text")))
        XCTAssertEqual(headers.description, #"model_list[0].litellm_params.extra_headers: expected mapping, got "just-text""#)
        let negative = try XCTUnwrap(loadError(entry("tpm: -5")))
        XCTAssertEqual(negative.path, "model_list[0].litellm_params.tpm")
    }

    func testLenientNumbersStringsAndBools() throws {
        let config = try load(entry("""
            rpm: "60"
            tpm: 1000.0
            weight: 2
            timeout: "1.5"
            api_version: 2023
            organization: 42
            """) + """
            litellm_settings:
              drop_params: "True"
              set_verbose: "false"
              num_retries: "3"
            general_settings:
              disable_spend_logs: true
            """)
        let params = config.deployments[0].params
        XCTAssertEqual(params.rpm, 60)
        XCTAssertEqual(params.tpm, 1000)
        XCTAssertEqual(params.weight, 2.0)
        XCTAssertEqual(params.timeout, 1.5)
        XCTAssertEqual(params.apiVersion, "2023")
        XCTAssertEqual(params.organization, "42")
        XCTAssertTrue(config.litellmSettings.dropParams)
        XCTAssertFalse(config.litellmSettings.setVerbose)
        XCTAssertEqual(config.litellmSettings.numRetries, 3)
        XCTAssertTrue(config.generalSettings.disableSpendLogs)
        let bad = try XCTUnwrap(loadError("litellm_settings:\n  drop_params: maybe\n"))
        XCTAssertEqual(bad.description, #"litellm_settings.drop_params: expected boolean, got "maybe""#)
    }

    func testRequiredKeys() throws {
        let noName = try XCTUnwrap(loadError("model_list:\n  - litellm_params: {model: openai/m}\n"))
        XCTAssertEqual(noName.path, "model_list[0].model_name")
        XCTAssertTrue(noName.message.contains("missing"), noName.message)

        let noParams = try XCTUnwrap(loadError("model_list:\n  - model_name: m\n"))
        XCTAssertEqual(noParams.path, "model_list[0].litellm_params")

        let noModel = try XCTUnwrap(loadError("model_list:\n  - model_name: m\n    litellm_params: {api_key: k}\n"))
        XCTAssertEqual(noModel.path, "model_list[0].litellm_params.model")

        let paramsNotMapping = try XCTUnwrap(loadError("model_list:\n  - model_name: m\n    litellm_params: openai/m\n"))
        XCTAssertEqual(paramsNotMapping.description, #"model_list[0].litellm_params: expected mapping, got "openai/m""#)
    }

    func testSectionShapes() throws {
        XCTAssertEqual(try XCTUnwrap(loadError("model_list: {a: 1}\n")).description,
                       "model_list: expected list, got a mapping")
        XCTAssertEqual(try XCTUnwrap(loadError("model_list:\n  - just-a-name\n")).description,
                       #"model_list[0]: expected mapping, got "just-a-name""#)
        for section in ["litellm_settings", "router_settings", "general_settings", "environment_variables"] {
            XCTAssertEqual(try XCTUnwrap(loadError("\(section): [1]\n")).description,
                           "\(section): expected mapping, got a list", section)
        }
        XCTAssertEqual(try XCTUnwrap(loadError("credential_list: {a: 1}\n")).path, "credential_list")
    }

    func testUnknownKeysWarnWithTheirPaths() throws {
        let config = try load("""
            model_list:
              - model_name: m
                litellm_params:
                  model: openai/m
                  temperature: 0.2
                  some_provider_knob: 3
                colour: blue
                model_info: {free_key: 1}
            litellm_settings: {drop_params: true, made_up_setting: 1, cache: true, json_logs: true}
            router_settings: {routing_strategy: least-busy, zzz: 1, provider_budget_config: {}}
            general_settings: {master_key: sk-1, not_a_setting: 2, background_health_checks: true}
            mystery_section: {}
            """)
        let paths = config.warnings.map(\.path)
        XCTAssertEqual(Set(paths), [
            "mystery_section", "model_list[0].colour", "litellm_settings.made_up_setting",
            "router_settings.zzz", "general_settings.not_a_setting",
        ])
        // Unknown settings are still kept.
        XCTAssertEqual(config.litellmSettings.all["made_up_setting"], .int(1))
        XCTAssertEqual(config.deployments[0].params.requestDefaults.keys, ["temperature", "some_provider_knob"])
    }

    func testApiBaseThatIsNotAURLWarns() throws {
        let config = try load(entry("api_base: your_ollama_api_base"))
        XCTAssertEqual(config.warnings, [ConfigWarning(
            path: "model_list[0].litellm_params.api_base",
            message: #"not an http(s) URL ("your_ollama_api_base"); requests to it will fail"#)])
        XCTAssertEqual(config.deployments[0].params.apiBase, "your_ollama_api_base")
        XCTAssertTrue(try load(entry("api_base: https://x.example.com/v1")).warnings.isEmpty)
    }

    func testWildcardsAreAccepted() throws {
        let config = try load("""
            model_list:
              - model_name: "*"
                litellm_params: {model: "*"}
              - model_name: openai/*
                litellm_params: {model: openai/*}
            """)
        XCTAssertEqual(config.modelNames, ["*", "openai/*"])
        XCTAssertEqual(config.deployments.map(\.params.model), ["*", "openai/*"])
    }
}
