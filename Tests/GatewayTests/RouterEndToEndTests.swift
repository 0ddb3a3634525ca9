import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import Synchronization
import XCTest

/// The router over real sockets: retries, fallbacks of each kind, cooldowns, rpm limits,
/// timeouts and streams that fail before their first byte.
final class RouterEndToEndTests: XCTestCase {
    /// A fake upstream answering by a script keyed on the deployment's model name.
    static func upstream(_ script: @escaping @Sendable (String, RecordedRequest) -> FakeResponse) async throws -> FakeOpenAIServer {
        try await FakeOpenAIServer { request in
            script(request.json?["model"]?.stringValue ?? "", request)
        }
    }

    static func chat(_ model: String, stream: Bool = false, extra: String = "") -> String {
        #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"hi"}]\#(extra)}"#
    }

    static let serverError = FakeResponse.json(status: 500, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#)

    func testRetriesFindAnotherDeploymentAndFallbacksAnotherGroup() async throws {
        let upstream = try await Self.upstream { model, request in
            switch model {
            case "bad1", "bad2": return Self.serverError
            default: return FakeOpenAIServer.standardResponse(request)
            }
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: a
                litellm_params: {model: openai/bad1, api_base: "\(upstream.baseURL)", api_key: k}
              - model_name: a
                litellm_params: {model: openai/good, api_base: "\(upstream.baseURL)", api_key: k}
              - model_name: b
                litellm_params: {model: openai/bad2, api_base: "\(upstream.baseURL)", api_key: k}
              - model_name: c
                litellm_params: {model: openai/fine, api_base: "\(upstream.baseURL)", api_key: k}
            router_settings:
              num_retries: 1
              fallbacks: [{"b": ["c"]}]
              allowed_fails: 100
            """)
        for _ in 0..<6 {
            let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("a"))
            XCTAssertEqual(r.status, 200, "a retry lands on the good deployment")
            XCTAssertTrue(["0", "1"].contains(r.header("x-litellm-attempted-retries") ?? ""))
        }
        let fell = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("b"))
        XCTAssertEqual(fell.status, 200)
        XCTAssertEqual(fell.header("x-litellm-model-group"), "c")
        XCTAssertEqual(fell.header("x-litellm-attempted-retries"), "1", "b's retry, then the fallback")
        XCTAssertEqual(fell.header("x-litellm-attempted-fallbacks"), "1")
        XCTAssertEqual(upstream.requests.filter { $0.json?["model"]?.stringValue == "bad2" }.count, 2)
        let records = await gateway.records.wait(for: 7)
        let last = try XCTUnwrap(records.last)
        XCTAssertEqual(last.attempts.map(\.reason), [.first, .retry, .fallback])
        XCTAssertEqual(last.attempts.map { $0.failure?.name ?? "ok" }, ["server_error", "server_error", "ok"])
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testContextWindowAndContentPolicyFallbacksAndNoRetryOnBadRequests() async throws {
        let upstream = try await Self.upstream { model, request in
            switch model {
            case "small": return .json(status: 400, body: #"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#)
            case "strict": return .json(status: 400, body: #"{"error":{"message":"filtered","type":"invalid_request_error","param":null,"code":"content_filter"}}"#)
            case "picky": return .json(status: 400, body: #"{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}"#)
            default: return FakeOpenAIServer.standardResponse(request)
            }
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - {model_name: small, litellm_params: {model: openai/small, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: large, litellm_params: {model: openai/large, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: strict, litellm_params: {model: openai/strict, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: lenient, litellm_params: {model: openai/lenient, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: picky, litellm_params: {model: openai/picky, api_base: "\(upstream.baseURL)", api_key: k}}
            litellm_settings:
              context_window_fallbacks: [{"small": ["large"]}]
              content_policy_fallbacks: [{"strict": ["lenient"]}]
              fallbacks: [{"picky": ["large"]}]
            """)
        let cw = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("small"))
        XCTAssertEqual(cw.status, 200)
        XCTAssertEqual(cw.header("x-litellm-model-group"), "large")
        let cp = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("strict"))
        XCTAssertEqual(cp.header("x-litellm-model-group"), "lenient")
        let bad = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("picky"))
        XCTAssertEqual(bad.status, 400, "a bad request is neither retried nor falls back")
        XCTAssertEqual(try JSONValue.parse(bad.body)["error"]?["param"]?.stringValue, "temperature")
        XCTAssertEqual(upstream.requests.filter { $0.json?["model"]?.stringValue == "picky" }.count, 1)
        XCTAssertEqual(upstream.requests.filter { $0.json?["model"]?.stringValue == "small" }.count, 1, "no retries on a context-window error")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testA429CoolsTheDeploymentSoTheOthersAnswer() async throws {
        let upstream = try await Self.upstream { model, request in
            model == "limited"
                ? .json(status: 429, body: #"{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#, headers: [("retry-after", "30")])
                : FakeOpenAIServer.standardResponse(request)
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - {model_name: m, litellm_params: {model: openai/limited, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: m, litellm_params: {model: openai/free, api_base: "\(upstream.baseURL)", api_key: k}}
            """)
        for _ in 0..<20 {
            XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("m")).status, 200)
        }
        XCTAssertLessThanOrEqual(upstream.requests.filter { $0.json?["model"]?.stringValue == "limited" }.count, 1, "after its 429 the deployment cools for 30 s")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testRPMLimitsAnswer429WithRetryAfterWhenNoDeploymentCanTakeMore() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - {model_name: m, litellm_params: {model: openai/a, mock_response: hi, rpm: 2}}
              - {model_name: m, litellm_params: {model: openai/b, mock_response: hi, rpm: 1}}
              - {model_name: open, litellm_params: {model: openai/c, mock_response: hi, rpm: 1}}
            router_settings: {enforce_model_rate_limits: true}
            """)
        for _ in 0..<3 {
            XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("m")).status, 200)
        }
        let refused = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("m"))
        XCTAssertEqual(refused.status, 429)
        let seconds = Int(refused.header("retry-after") ?? "") ?? 0
        XCTAssertTrue((50...60).contains(seconds), "until the oldest request leaves the 60 s window: \(seconds)")
        let message = try JSONValue.parse(refused.body)["error"]?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("2 at their rpm limit"), message)
        await gateway.shutdown()
    }

    func testTimeoutsAndStreamsFailingBeforeTheirFirstByteAreRetriedElsewhere() async throws {
        let upstream = try await Self.upstream { model, request in
            switch model {
            case "slow": return .hang
            case "broken": return Self.serverError
            default: return FakeOpenAIServer.standardResponse(request)
            }
        }
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - {model_name: t, litellm_params: {model: openai/slow, api_base: "\(upstream.baseURL)", api_key: k, timeout: 0.3, stream_timeout: 0.3}}
              - {model_name: t, litellm_params: {model: openai/ok, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: s, litellm_params: {model: openai/broken, api_base: "\(upstream.baseURL)", api_key: k}}
              - {model_name: s, litellm_params: {model: openai/ok, api_base: "\(upstream.baseURL)", api_key: k}}
            router_settings: {num_retries: 2, allowed_fails: 100}
            """)
        for stream in [false, true] {
            for model in ["t", "s"] {
                for _ in 0..<3 {
                    let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat(model, stream: stream))
                    XCTAssertEqual(r.status, 200, "\(model) stream \(stream)")
                    if stream { XCTAssertTrue(r.body.hasSuffix("data: [DONE]\n\n")) }
                }
            }
        }
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testMockErrorsExerciseFallbacksAndPreCallChecksSkipSmallContextWindows() async throws {
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - {model_name: flaky, litellm_params: {model: openai/f, mock_response: "litellm.InternalServerError"}}
              - {model_name: steady, litellm_params: {model: openai/s, mock_response: "steady answer"}}
              - {model_name: ctx, litellm_params: {model: openai/tiny, mock_response: "tiny"}, model_info: {max_input_tokens: 5}}
              - {model_name: ctx, litellm_params: {model: openai/roomy, mock_response: "roomy"}, model_info: {max_input_tokens: 100000}}
            router_settings: {num_retries: 0, fallbacks: [{"flaky": ["steady"]}], enable_pre_call_checks: true}
            """)
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("flaky"))
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.body.contains("steady answer"))
        let testing = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("ctx", extra: #","mock_testing_fallbacks":true,"fallbacks":["steady"]"#))
        XCTAssertEqual(testing.header("x-litellm-model-group"), "steady")
        let long = String(repeating: "word ", count: 40)
        for _ in 0..<5 {
            let c = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"ctx","messages":[{"role":"user","content":"\#(long)"}]}"#)
            XCTAssertTrue(c.body.contains("roomy"), "the 5-token deployment is skipped")
        }
        await gateway.shutdown()
    }
}
