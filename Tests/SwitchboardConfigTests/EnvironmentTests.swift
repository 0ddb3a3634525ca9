import Foundation
import OpenAIWire
import SwitchboardConfig
import XCTest

final class EnvironmentTests: XCTestCase {
    func testReferencesResolveAtEveryDepth() throws {
        let config = try load("""
            model_list:
              - model_name: m
                litellm_params:
                  model: openai/m
                  api_key: os.environ/KEY
                  extra_headers: {"X-Team": os.environ/TEAM, "X-Count": 3}
                  metadata: {nested: {deeper: [plain, os.environ/DEEP]}}
                model_info:
                  tags_list: [first, os.environ/INFO_ITEM]
                  custom_tokenizer: {identifier: acme/tok, auth_token: os.environ/HF}
            router_settings:
              redis_host: os.environ/RHOST
              model_group_alias: {gpt-4: os.environ/ALIAS_TARGET}
            general_settings:
              master_key: os.environ/MASTER
            """, environment: [
                "KEY": "sk-k", "TEAM": "blue", "DEEP": "deep-value", "INFO_ITEM": "second",
                "HF": "hf-token", "RHOST": "redis.internal", "ALIAS_TARGET": "gpt-4o", "MASTER": "sk-master",
            ])
        let d = config.deployments[0]
        XCTAssertEqual(d.params.apiKey, "sk-k")
        XCTAssertEqual(d.params.all["api_key"], .string("sk-k"))
        XCTAssertEqual(d.params.extraHeaders.map(\.name), ["X-Team", "X-Count"])
        XCTAssertEqual(d.params.extraHeaders.map(\.value), ["blue", "3"])
        XCTAssertEqual(d.params.requestDefaults["metadata"]?["nested"]?["deeper"],
                       .array([.string("plain"), .string("deep-value")]))
        XCTAssertEqual(d.modelInfo.all["tags_list"], .array([.string("first"), .string("second")]))
        XCTAssertEqual(d.modelInfo.all["custom_tokenizer"]?["auth_token"], .string("hf-token"))
        XCTAssertEqual(d.modelInfo.customTokenizer?.authToken, "hf-token")
        XCTAssertEqual(config.routerSettings.redisHost, "redis.internal")
        XCTAssertEqual(config.routerSettings.modelGroupAlias.first?.target.model, "gpt-4o")
        XCTAssertEqual(config.generalSettings.masterKey, "sk-master")
        XCTAssertEqual(config.generalSettings.all["master_key"], .string("sk-master"))
    }

    func testMissingVariableNamesKeyPathAndVariableWhenStrict() throws {
        let error = try XCTUnwrap(loadError("""
            model_list:
              - model_name: m
                litellm_params: {model: openai/m}
              - model_name: n
                litellm_params:
                  model: openai/n
                  api_key: os.environ/NOT_SET_ANYWHERE
            """, strict: true))
        XCTAssertEqual(error.path, "model_list[1].litellm_params.api_key")
        XCTAssertTrue(error.message.contains("NOT_SET_ANYWHERE"), error.message)
        XCTAssertTrue(error.description.hasPrefix("model_list[1].litellm_params.api_key: "))

        let inList = try XCTUnwrap(loadError("""
            model_list:
              - model_name: m
                litellm_params: {model: openai/m}
                model_info: {groups: [a, os.environ/GONE]}
            """, strict: true))
        XCTAssertEqual(inList.path, "model_list[0].model_info.groups[1]")
        XCTAssertTrue(inList.message.contains("GONE"))

        let inSettings = try XCTUnwrap(loadError("router_settings:\n  redis_password: os.environ/NOPE\n", strict: true))
        XCTAssertEqual(inSettings.path, "router_settings.redis_password")
    }

    func testEnvironmentVariablesFeedReferences() throws {
        let config = try load("""
            environment_variables:
              BASE_URL: https://llm.example.com/v1
              PORT: 6380
              DERIVED: os.environ/FROM_PROCESS
            model_list:
              - model_name: m
                litellm_params:
                  model: openai/m
                  api_base: os.environ/BASE_URL
                  api_key: os.environ/DERIVED
            router_settings:
              redis_port: os.environ/PORT
            """, environment: ["FROM_PROCESS": "sk-from-process", "BASE_URL": "https://overridden"])
        XCTAssertEqual(config.deployments[0].params.apiBase, "https://llm.example.com/v1")
        XCTAssertEqual(config.deployments[0].params.apiKey, "sk-from-process")
        XCTAssertEqual(config.routerSettings.redisPort, 6380)
        XCTAssertEqual(config.environmentVariables, [
            "BASE_URL": "https://llm.example.com/v1", "PORT": "6380", "DERIVED": "sk-from-process",
        ])
    }

    func testEnvironmentVariablesAreExportedOnlyWhenAsked() throws {
        let name = "SWITCHBOARD_TEST_EXPORT_\(UInt32.random(in: 0...UInt32.max))"
        let yaml = "environment_variables:\n  \(name): exported-value\n"
        _ = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: yaml)
        XCTAssertNil(getenv(name))
        _ = try ConfigLoader(environment: [:], exportsEnvironmentVariables: true).load(yaml: yaml)
        XCTAssertEqual(getenv(name).map { String(cString: $0) }, "exported-value")
        unsetenv(name)
    }

    func testEnvironmentDefaultsForRedisAndDatabase() throws {
        let env = ["REDIS_HOST": "r.local", "REDIS_PORT": "6390", "REDIS_PASSWORD": "pw", "DATABASE_URL": "postgres://db"]
        let fromEnv = try load("model_list: []\n", environment: env)
        XCTAssertEqual(fromEnv.routerSettings.redisHost, "r.local")
        XCTAssertEqual(fromEnv.routerSettings.redisPort, 6390)
        XCTAssertEqual(fromEnv.routerSettings.redisPassword, "pw")
        XCTAssertEqual(fromEnv.generalSettings.databaseURL, "postgres://db")

        let fileWins = try load("""
            router_settings: {redis_host: file.host, redis_port: 1992, redis_password: filepw}
            general_settings: {database_url: "postgres://file"}
            """, environment: env)
        XCTAssertEqual(fileWins.routerSettings.redisHost, "file.host")
        XCTAssertEqual(fileWins.routerSettings.redisPort, 1992)
        XCTAssertEqual(fileWins.routerSettings.redisPassword, "filepw")
        XCTAssertEqual(fileWins.generalSettings.databaseURL, "postgres://file")

        let none = try load("model_list: []\n")
        XCTAssertNil(none.routerSettings.redisHost)
        XCTAssertNil(none.generalSettings.databaseURL)
    }

    func testRedisStoreSettingsAreReadAndAURLMustBeARedisOne() throws {
        let config = try load("""
            router_settings: {redis_url: "rediss://cache:6380/1", redis_username: app, redis_db: 2, redis_ssl: true, redis_timeout_ms: 20, redis_fail_closed: true}
            """)
        let r = config.routerSettings
        XCTAssertEqual(r.redisURL, "rediss://cache:6380/1")
        XCTAssertEqual(r.redisUsername, "app")
        XCTAssertEqual(r.redisDB, 2)
        XCTAssertTrue(r.redisSSL)
        XCTAssertEqual(r.redisTimeoutMilliseconds, 20)
        XCTAssertTrue(r.redisFailClosed)
        XCTAssertTrue(r.usesRedis)
        XCTAssertFalse(config.warnings.contains { $0.path.hasPrefix("router_settings") }, "known keys: \(config.warnings)")
        let defaults = try load("model_list: []\n").routerSettings
        XCTAssertFalse(defaults.usesRedis)
        XCTAssertEqual(defaults.redisTimeoutMilliseconds, 5)
        XCTAssertFalse(defaults.redisFailClosed)
        let bad = try XCTUnwrap(loadError("router_settings: {redis_url: \"http://cache\"}\n"))
        XCTAssertEqual(bad.path, "router_settings.redis_url")
    }

    private let environmentsYAML = """
        model_list:
          - model_name: everywhere
            litellm_params: {model: openai/a}
          - model_name: prod-only
            litellm_params: {model: openai/b, api_key: os.environ/PROD_KEY}
            model_info: {supported_environments: [production]}
          - model_name: not-prod
            litellm_params: {model: openai/c}
            model_info: {supported_environments: [development, staging]}
        """

    func testSupportedEnvironmentsFilterDeployments() throws {
        let all = try load(environmentsYAML, environment: ["PROD_KEY": "k"])
        XCTAssertEqual(all.modelNames, ["everywhere", "prod-only", "not-prod"])
        XCTAssertEqual(all.deployments[2].modelInfo.supportedEnvironments, ["development", "staging"])

        let prod = try load(environmentsYAML, environment: ["LITELLM_ENVIRONMENT": "production", "PROD_KEY": "k"])
        XCTAssertEqual(prod.modelNames, ["everywhere", "prod-only"])

        // Deployments that are not loaded need not have their variables set.
        let staging = try load(environmentsYAML, environment: ["LITELLM_ENVIRONMENT": "staging"])
        XCTAssertEqual(staging.modelNames, ["everywhere", "not-prod"])
        // Ids do not depend on which environment loaded them.
        XCTAssertEqual(staging.deployments[1].id, all.deployments[2].id)
    }

    func testInvalidEnvironmentsAreErrors() throws {
        let bad = try XCTUnwrap(loadError(environmentsYAML, environment: ["LITELLM_ENVIRONMENT": "qa"]))
        XCTAssertTrue(bad.message.contains("LITELLM_ENVIRONMENT"), bad.message)
        XCTAssertTrue(bad.message.contains("production, staging, development"), bad.message)

        let value = try XCTUnwrap(loadError("""
            model_list:
              - model_name: a
                litellm_params: {model: openai/a}
                model_info: {supported_environments: [production, prod]}
            """))
        XCTAssertEqual(value.path, "model_list[0].model_info.supported_environments[1]")
        XCTAssertTrue(value.message.contains("\"prod\""), value.message)
    }
}
