import Callbacks
import Foundation
import Logging
import NIOPosix
import OpenAIWire
import SwitchboardConfig
import SwitchboardTesting
import XCTest

/// generic_api and Slack alerts, against fake endpoints that record what they receive.
final class CallbackTests: XCTestCase {
    func gateway(_ upstream: FakeOpenAIServer, endpoint: FakeOpenAIServer, extra: String = "") async throws -> (GatewayHarness, Callbacks) {
        let env = [
            "GENERIC_LOGGER_ENDPOINT": "http://127.0.0.1:\(endpoint.port)/log", "GENERIC_LOGGER_HEADERS": "x-team=blue, x-env=test",
            "SLACK_WEBHOOK_URL": "http://127.0.0.1:\(endpoint.port)/slack", "DEFAULT_FLUSH_INTERVAL_SECONDS": "0.1",
        ]
        let box = CallbacksBox()
        let harness = try await GatewayHarness(yaml: """
            model_list:
              - model_name: m
                litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k}
                model_info: {id: dep-1, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
            litellm_settings:
              success_callback: ["generic_api"]
              failure_callback: ["generic_api"]
            general_settings:
              alerting: ["slack"]
              alerting_threshold: 0.2
            router_settings: {num_retries: 0}
            \(extra)
            """, environment: env, extras: { gateway in
            let c = Callbacks(config: gateway.config, environment: env, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
            box.set(c)
            return GatewayExtras(loopSinks: c.sinks(on:))
        })
        return (harness, box.get()!)
    }

    func waitFor(_ endpoint: FakeOpenAIServer, path: String, count: Int) async -> [RecordedRequest] {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let r = endpoint.requests.filter { $0.uri == path }
            if r.count >= count { return r }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return endpoint.requests.filter { $0.uri == path }
    }

    func testGenericAPIGetsStandardLoggingPayloadsInJSONArrays() async throws {
        let upstream = try await FakeOpenAIServer { request in
            request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue == "fail"
                ? .json(status: 500, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#)
                : FakeOpenAIServer.standardResponse(request)
        }
        let endpoint = try await FakeOpenAIServer()
        let (gateway, callbacks) = try await gateway(upstream, endpoint: endpoint)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","messages":[{"role":"user","content":"hello"}]}"#).status, 200)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","messages":[{"role":"user","content":"fail"}]}"#).status, 500)
        await callbacks.stop()
        let posts = await waitFor(endpoint, path: "/log", count: 1)
        let entries = posts.flatMap { $0.json?.arrayValue ?? [] }
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(posts.first?.header("x-team"), "blue")
        XCTAssertEqual(posts.first?.header("content-type"), "application/json")
        let ok = try XCTUnwrap(entries.first { $0["status"]?.stringValue == "success" })
        XCTAssertEqual(ok["call_type"]?.stringValue, "acompletion")
        XCTAssertEqual(ok["model"]?.stringValue, "openai/m")
        XCTAssertEqual(ok["model_group"]?.stringValue, "m")
        XCTAssertEqual(ok["model_id"]?.stringValue, "dep-1")
        XCTAssertEqual(ok["prompt_tokens"]?.intValue, 9)
        XCTAssertEqual(ok["completion_tokens"]?.intValue, 4)
        XCTAssertEqual(ok["response_cost"]?.doubleValue ?? 0, 9 * 0.001 + 4 * 0.002, accuracy: 1e-9)
        XCTAssertEqual(ok["messages"]?.arrayValue?.first?["content"]?.stringValue, "hello")
        XCTAssertEqual(ok["response"]?["object"]?.stringValue, "chat.completion")
        XCTAssertNotNil(ok["startTime"]?.doubleValue)
        let failed = try XCTUnwrap(entries.first { $0["status"]?.stringValue == "failure" })
        XCTAssertEqual(failed["error_information"]?["error_code"]?.stringValue, "500")
        XCTAssertEqual(failed["error_information"]?["error_class"]?.stringValue, "server_error")
        let slack = await waitFor(endpoint, path: "/slack", count: 1)
        let text = slack.compactMap { $0.json?["text"]?.stringValue }.joined()
        XCTAssertTrue(text.contains("Alert type: `llm_exceptions`"), text)
        XCTAssertTrue(text.contains("Level: `High`"), text)
        await gateway.shutdown()
        await upstream.shutdown()
        await endpoint.shutdown()
    }

    func testAHangingEndpointDoesNotSlowRequestsAndSlowCallsAlert() async throws {
        let upstream = try await FakeOpenAIServer { request in
            request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue == "slow"
                ? .sse(events: FakeOpenAIServer.streamEvents(model: "m", words: ["a"], includeUsage: false), delay: .milliseconds(100))
                : FakeOpenAIServer.standardResponse(request)
        }
        let hanging = try await FakeOpenAIServer { request in request.uri == "/slack" ? FakeOpenAIServer.standardResponse(request) : .hang }
        let (gateway, _) = try await gateway(upstream, endpoint: hanging)
        let client = try gateway.client()
        let started = Date()
        for _ in 0..<200 {
            XCTAssertEqual(try client.request("POST", "/v1/chat/completions", body: #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#).status, 200)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 8, "a hanging callback endpoint must not slow the calls")
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"slow"}]}"#).status, 200)
        let slack = await waitFor(hanging, path: "/slack", count: 1)
        let text = slack.compactMap { $0.json?["text"]?.stringValue }.joined()
        XCTAssertTrue(text.contains("Alert type: `llm_too_slow`"), text)
        XCTAssertTrue(text.contains("Alerting threshold: 0.2s"), text)
        await gateway.shutdown()
        await upstream.shutdown()
        await hanging.shutdown()
    }
}

/// Hands the Callbacks made inside the harness's sink factory back to the test.
final class CallbacksBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Callbacks?
    func set(_ c: Callbacks) { lock.lock(); value = c; lock.unlock() }
    func get() -> Callbacks? { lock.lock(); defer { lock.unlock() }; return value }
}
