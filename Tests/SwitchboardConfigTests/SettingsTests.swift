import OpenAIWire
import SwitchboardConfig
import XCTest

final class SettingsTests: XCTestCase {
    func testFallbacksParse() throws {
        let config = try load("""
            litellm_settings:
              fallbacks: [{"zephyr-beta": ["gpt-4o"]}, {"gpt-4o": ["gpt-4o-mini", "claude"]}]
              context_window_fallbacks: [{"zephyr-beta": "gpt-3.5-turbo-16k"}]
              content_policy_fallbacks:
                - claude: [gpt-4o]
              default_fallbacks: ["gpt-4o-mini"]
            router_settings:
              fallbacks: [{"a": ["b"]}]
            """)
        let s = config.litellmSettings
        XCTAssertEqual(s.fallbacks, [FallbackRule(modelGroup: "zephyr-beta", fallbacks: ["gpt-4o"]),
                                     FallbackRule(modelGroup: "gpt-4o", fallbacks: ["gpt-4o-mini", "claude"])])
        XCTAssertEqual(s.contextWindowFallbacks, [FallbackRule(modelGroup: "zephyr-beta", fallbacks: ["gpt-3.5-turbo-16k"])])
        XCTAssertEqual(s.contentPolicyFallbacks, [FallbackRule(modelGroup: "claude", fallbacks: ["gpt-4o"])])
        XCTAssertEqual(s.defaultFallbacks, ["gpt-4o-mini"])
        XCTAssertEqual(config.routerSettings.fallbacks, [FallbackRule(modelGroup: "a", fallbacks: ["b"])])

        let notAList = try XCTUnwrap(loadError("litellm_settings:\n  fallbacks: {a: [b]}\n"))
        XCTAssertEqual(notAList.description, "litellm_settings.fallbacks: expected list, got a mapping")
        let badItem = try XCTUnwrap(loadError("litellm_settings:\n  fallbacks: [gpt-4o]\n"))
        XCTAssertEqual(badItem.path, "litellm_settings.fallbacks[0]")
        let badTarget = try XCTUnwrap(loadError("litellm_settings:\n  fallbacks: [{a: [b, [c]]}]\n"))
        XCTAssertEqual(badTarget.path, "litellm_settings.fallbacks[0].a[1]")
    }

    func testModelGroupAliases() throws {
        let config = try load("""
            router_settings:
              model_group_alias:
                gpt-4: gpt-4o
                gpt-3.5-turbo: {model: gpt-4o-mini, hidden: true}
                claude: {model: claude-3-haiku, colour: red}
            """)
        let aliases = config.routerSettings.modelGroupAlias
        XCTAssertEqual(aliases.map(\.alias), ["gpt-4", "gpt-3.5-turbo", "claude"])
        XCTAssertEqual(aliases.map(\.target), [ModelGroupAlias(model: "gpt-4o"),
                                               ModelGroupAlias(model: "gpt-4o-mini", hidden: true),
                                               ModelGroupAlias(model: "claude-3-haiku")])
        XCTAssertEqual(config.warnings.map(\.path).filter { $0 != "model_list" },
                       ["router_settings.model_group_alias.claude.colour"])

        let missingModel = try XCTUnwrap(loadError("router_settings:\n  model_group_alias: {gpt-4: {hidden: true}}\n"))
        XCTAssertEqual(missingModel.path, "router_settings.model_group_alias.gpt-4.model")
        let badHidden = try XCTUnwrap(loadError("router_settings:\n  model_group_alias: {gpt-4: {model: x, hidden: sometimes}}\n"))
        XCTAssertEqual(badHidden.description,
                       #"router_settings.model_group_alias.gpt-4.hidden: expected boolean, got "sometimes""#)
        let list = try XCTUnwrap(loadError("router_settings:\n  model_group_alias: {gpt-4: [a]}\n"))
        XCTAssertEqual(list.description, "router_settings.model_group_alias.gpt-4: expected string, got a list")
    }

    func testRouterSettings() throws {
        let config = try load("""
            router_settings:
              routing_strategy: usage-based-routing-v2
              routing_strategy_args: {ttl: 10}
              num_retries: 2
              timeout: 30
              stream_timeout: 10
              retry_after: 1
              allowed_fails: 3
              cooldown_time: 5
              enable_pre_call_checks: true
              optional_pre_call_checks: ["enforce_model_rate_limits"]
              redis_url: redis://localhost:6379
            """)
        let r = config.routerSettings
        XCTAssertEqual(r.routingStrategy, "usage-based-routing-v2")
        XCTAssertEqual(r.routingStrategyArgs, [JSONMember("ttl", .int(10))])
        XCTAssertEqual(r.numRetries, 2)
        XCTAssertEqual(r.timeout, 30)
        XCTAssertEqual(r.streamTimeout, 10)
        XCTAssertEqual(r.retryAfter, 1)
        XCTAssertEqual(r.allowedFails, 3)
        XCTAssertEqual(r.cooldownTime, 5)
        XCTAssertTrue(r.enablePreCallChecks)
        XCTAssertEqual(r.optionalPreCallChecks, ["enforce_model_rate_limits"])
        XCTAssertEqual(r.redisURL, "redis://localhost:6379")
        XCTAssertEqual(r.all.count, 11)
        XCTAssertEqual(config.warnings.map(\.path), ["model_list"])
        XCTAssertEqual(try load("").routerSettings.routingStrategy, "simple-shuffle")

        let bad = try XCTUnwrap(loadError("router_settings:\n  routing_strategy: fastest\n"))
        XCTAssertEqual(bad.path, "router_settings.routing_strategy")
        XCTAssertTrue(bad.message.contains("\"fastest\""), bad.message)
        XCTAssertTrue(bad.message.contains("simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, "
            + "latency-based-routing, cost-based-routing"), bad.message)
    }

    func testLitellmAndGeneralSettings() throws {
        let config = try load("""
            litellm_settings:
              drop_params: True
              num_retries: 3
              request_timeout: 10
              allowed_fails: 2
              cooldown_time: 30
              success_callback: ["langfuse"]
              failure_callback: sentry
              callbacks: ["prometheus", "otel"]
              set_verbose: true
              cache: true
              cache_params: {type: redis}
            general_settings:
              master_key: sk-1234
              alerting: ["slack"]
              alerting_threshold: 300
              store_model_in_db: true
              database_connection_pool_limit: 100
              database_connection_timeout: 60
              max_request_body_bytes: 1048576
            """)
        let l = config.litellmSettings
        XCTAssertTrue(l.dropParams)
        XCTAssertEqual(l.numRetries, 3)
        XCTAssertEqual(l.requestTimeout, 10)
        XCTAssertEqual(l.allowedFails, 2)
        XCTAssertEqual(l.cooldownTime, 30)
        XCTAssertEqual(l.successCallback, ["langfuse"])
        XCTAssertEqual(l.failureCallback, ["sentry"])
        XCTAssertEqual(l.callbacks, ["prometheus", "otel"])
        XCTAssertTrue(l.setVerbose)
        XCTAssertEqual(l.all["cache_params"], .object([JSONMember("type", .string("redis"))]))
        let g = config.generalSettings
        XCTAssertEqual(g.masterKey, "sk-1234")
        XCTAssertEqual(g.alerting, ["slack"])
        XCTAssertEqual(g.alertingThreshold, 300)
        XCTAssertTrue(g.storeModelInDB)
        XCTAssertEqual(g.databaseConnectionPoolLimit, 100)
        XCTAssertEqual(g.databaseConnectionTimeout, 60)
        XCTAssertEqual(g.maxRequestBodyBytes, 1_048_576)
        XCTAssertEqual(config.warnings.filter { $0.path != "model_list" }.map(\.description), [
            "litellm_settings.failure_callback: callback 'sentry' is not supported by this Switchboard build; its events are not sent",
        ])

        let defaults = try load("model_list: []\n").generalSettings
        XCTAssertEqual(defaults.maxRequestBodyBytes, 64 * 1024 * 1024)
        XCTAssertEqual(defaults.databaseConnectionPoolLimit, 10)
        XCTAssertEqual(defaults.databaseConnectionTimeout, 60)
        XCTAssertEqual(try XCTUnwrap(loadError("general_settings:\n  max_request_body_bytes: 0\n")).path,
                       "general_settings.max_request_body_bytes")

        let odd = try load("general_settings:\n  master_key: my-key\n")
        XCTAssertTrue(odd.warnings.contains { $0.path == "general_settings.master_key" }, "\(odd.warnings)")
        XCTAssertFalse(odd.warnings.contains { $0.message.contains("my-key") })
    }
}

final class AlertingSettingsTests: XCTestCase {
    func testAlertTypesAndAlertingArgs() throws {
        let config = try load("""
            general_settings:
              alerting: ["slack"]
              alert_types: ["llm_exceptions", "cooldown_deployment"]
              alerting_args: {outage_alert_ttl: 120, minor_outage_alert_threshold: 3, alert_dedup_seconds: 0, budget_alert_ttl: 10, colour: red}
            """)
        let g = config.generalSettings
        XCTAssertEqual(g.alertTypes, ["llm_exceptions", "cooldown_deployment"])
        XCTAssertEqual(g.alertingArgs.outageAlertTTL, 120)
        XCTAssertEqual(g.alertingArgs.minorOutageAlertThreshold, 3)
        XCTAssertEqual(g.alertingArgs.alertDedupSeconds, 0)
        XCTAssertTrue(config.warnings.contains { $0.path == "general_settings.alerting_args.colour" }, "\(config.warnings)")
        XCTAssertFalse(config.warnings.contains { $0.path.hasSuffix("budget_alert_ttl") }, "LiteLLM's keys are accepted")
        XCTAssertNil(try load("general_settings: {alerting: [slack]}\n").generalSettings.alertTypes)

        let error = try XCTUnwrap(loadError("general_settings: {alerting_args: {minor_outage_alert_threshold: many}}\n"))
        XCTAssertEqual(error.description, #"general_settings.alerting_args.minor_outage_alert_threshold: expected integer, got "many""#)
        let zero = try XCTUnwrap(loadError("general_settings: {alerting_args: {outage_alert_ttl: 0}}\n"))
        XCTAssertEqual(zero.path, "general_settings.alerting_args.outage_alert_ttl")
    }
}
