import Callbacks
import Foundation
import Logging
import NIOPosix
import SwitchboardTesting
import XCTest

/// Slack alerts against a fake incoming webhook on a real socket: each kind's payload, and
/// that one incident alerts once.
final class SlackAlertTests: XCTestCase {
    func gateway(_ yaml: String, slack: FakeOpenAIServer, env extra: [String: String] = [:]) async throws -> (GatewayHarness, Callbacks) {
        var env = ["SLACK_WEBHOOK_URL": "http://127.0.0.1:\(slack.port)/services/T0/B0/secret", "DEFAULT_FLUSH_INTERVAL_SECONDS": "0.1"]
        for (k, v) in extra { env[k] = v }
        return try await gatewayWithCallbacks(yaml, env: env)
    }

    func alerts(_ slack: FakeOpenAIServer, _ kind: String, count: Int = 1, timeout: Double = 15) async -> [String] {
        await waitForAlerts(slack, kind: kind, count: count, timeout: timeout)
    }

    func testAHangingCallAlertsOnceWhileItHangs() async throws {
        let upstream = try await FakeOpenAIServer { request in
            request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue == "hang" ? .hang : FakeOpenAIServer.standardResponse(request)
        }
        let slack = try await FakeOpenAIServer()
        let (gateway, _) = try await gateway("""
            model_list:
              - model_name: m
                litellm_params: {model: openai/gpt-m, api_base: "\(upstream.baseURL)", api_key: k}
                model_info: {id: dep-1}
            general_settings: {alerting: [slack], alerting_threshold: 0.3}
            router_settings: {num_retries: 0, timeout: 2}
            """, slack: slack)
        let port = gateway.port
        let hanging = Task.detached { try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: TraceCallbackTests.chat("hang")).status }
        let first = await alerts(slack, "llm_requests_hanging")
        XCTAssertEqual(first.count, 1)
        let text = first.first ?? ""
        XCTAssertTrue(text.contains("Level: `Medium`"), text)
        XCTAssertTrue(text.contains("Requests are hanging - 0.3s+ request time"), text)
        XCTAssertTrue(text.contains("Request Model: `openai/gpt-m`"), text)
        XCTAssertTrue(text.contains("Call ID: `"), text)
        let slackRequest = try XCTUnwrap(slack.requests.first)
        XCTAssertEqual(slackRequest.uri, "/services/T0/B0/secret")
        XCTAssertEqual(slackRequest.header("content-type"), "application/json")
        XCTAssertNotNil(slackRequest.json?["text"]?.stringValue, "Slack incoming-webhook JSON")
        // The sweep sees the call every 75 ms until its 2-s timeout: still one alert.
        let status = try await hanging.value
        XCTAssertEqual(status, 408)
        _ = await alerts(slack, "llm_exceptions")
        let seen1 = await alerts(slack, "llm_requests_hanging", count: 2, timeout: 0.5)
        XCTAssertEqual(seen1.count, 1)
        await gateway.shutdown()
        await upstream.shutdown()
        await slack.shutdown()
    }

    func testARepeatedlyFailingDeploymentAlertsOncePerKind() async throws {
        let upstream = try await FakeOpenAIServer { _ in
            .json(status: 500, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#)
        }
        let slack = try await FakeOpenAIServer()
        let (gateway, _) = try await gateway("""
            model_list:
              - model_name: m
                litellm_params: {model: openai/gpt-m, api_base: "\(upstream.baseURL)", api_key: k}
                model_info: {id: dep-1}
            general_settings: {alerting: [slack], alerting_args: {minor_outage_alert_threshold: 3, outage_alert_ttl: 60}}
            router_settings: {num_retries: 0}
            """, slack: slack)
        let client = try gateway.client()
        for _ in 0..<8 { XCTAssertEqual(try client.request("POST", "/v1/chat/completions", body: TraceCallbackTests.chat).status, 500) }
        let outage = await alerts(slack, "outage_alerts")
        XCTAssertEqual(outage.count, 1)
        XCTAssertTrue(outage.first?.contains("Deployment failing repeatedly: 3 failed requests in 60s") == true, outage.description)
        XCTAssertTrue(outage.first?.contains("Model ID: `dep-1`") == true, outage.description)
        let seen2 = await alerts(slack, "llm_exceptions")
        XCTAssertEqual(seen2.count, 1)
        for _ in 0..<4 { _ = try client.request("POST", "/v1/chat/completions", body: TraceCallbackTests.chat) }
        let seen3 = await alerts(slack, "outage_alerts", count: 2, timeout: 0.5)
        XCTAssertEqual(seen3.count, 1, "one incident, one alert")
        let seen4 = await alerts(slack, "llm_exceptions", count: 2, timeout: 0.5)
        XCTAssertEqual(seen4.count, 1, "one incident, one alert")
        await gateway.shutdown()
        await upstream.shutdown()
        await slack.shutdown()
    }

    func testCooldownsAndAGroupWithNoHealthyDeploymentAlertOnce() async throws {
        let slack = try await FakeOpenAIServer()
        let (gateway, _) = try await gateway("""
            model_list:
              - {model_name: m, litellm_params: {model: openai/a, mock_response: "litellm.RateLimitError"}, model_info: {id: dep-a}}
              - {model_name: m, litellm_params: {model: openai/b, mock_response: "litellm.RateLimitError"}, model_info: {id: dep-b}}
              - {model_name: ok, litellm_params: {model: openai/c, mock_response: "fine"}, model_info: {id: dep-ok}}
            general_settings: {alerting: [slack]}
            router_settings: {num_retries: 1, cooldown_time: 30}
            """, slack: slack)
        for _ in 0..<3 { _ = try gateway.request("POST", "/v1/chat/completions", body: TraceCallbackTests.chat) }
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"ok","messages":[{"role":"user","content":"x"}]}"#).status, 200)
        let cooldowns = await alerts(slack, "cooldown_deployment", count: 2)
        XCTAssertEqual(cooldowns.count, 2)
        XCTAssertTrue(cooldowns.contains { $0.contains("Model ID: `dep-a`") }, cooldowns.description)
        XCTAssertTrue(cooldowns.contains { $0.contains("Model ID: `dep-b`") }, cooldowns.description)
        XCTAssertTrue(cooldowns.allSatisfy { $0.contains("Model Group: `m`") && $0.contains("Deployment entered cooldown") }, cooldowns.description)
        let down = await alerts(slack, "no_healthy_deployments")
        XCTAssertEqual(down.count, 1)
        XCTAssertTrue(down.first?.contains("all 2 deployments of model group m are cooling down") == true, down.description)
        XCTAssertTrue(down.first?.contains("Level: `High`") == true, down.description)
        // Two more health ticks: the same incidents do not alert again; group ok never does.
        try await Task.sleep(for: .milliseconds(2500))
        let seen5 = await alerts(slack, "cooldown_deployment", count: 3, timeout: 0.1)
        XCTAssertEqual(seen5.count, 2)
        let seen6 = await alerts(slack, "no_healthy_deployments", count: 2, timeout: 0.1)
        XCTAssertEqual(seen6.count, 1)
        XCTAssertFalse(slack.requests.contains { $0.body.contains("dep-ok") })
        await gateway.shutdown()
        await slack.shutdown()
    }
}

extension SlackAlertTests {
    func testAlertTypesChooseTheKindsSent() async throws {
        let slack = try await FakeOpenAIServer()
        let (gateway, _) = try await gateway("""
            model_list:
              - {model_name: m, litellm_params: {model: openai/a, mock_response: "litellm.RateLimitError"}, model_info: {id: dep-a}}
              - {model_name: m, litellm_params: {model: openai/b, mock_response: "litellm.RateLimitError"}, model_info: {id: dep-b}}
            general_settings: {alerting: [slack], alert_types: [no_healthy_deployments]}
            router_settings: {num_retries: 1, cooldown_time: 30}
            """, slack: slack)
        for _ in 0..<3 { _ = try gateway.request("POST", "/v1/chat/completions", body: TraceCallbackTests.chat) }
        let down = await alerts(slack, "no_healthy_deployments")
        XCTAssertEqual(down.count, 1)
        try await Task.sleep(for: .milliseconds(300))
        XCTAssertFalse(slack.requests.contains { $0.body.contains("cooldown_deployment") }, "not in alert_types")
        await gateway.shutdown()
        await slack.shutdown()
    }
}
