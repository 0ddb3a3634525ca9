import CallModel
import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// The call model over real sockets: streams wait for their first event, stream_timeout bounds
/// silences, usage is counted and the extra usage chunk hidden, upstream heads reach the client.
final class CallModelEndToEndTests: XCTestCase {
    static func config(_ upstream: FakeOpenAIServer, extra: String = "") -> String {
        """
        model_list:
          - model_name: m
            litellm_params: {model: openai/m, api_base: "\(upstream.baseURL)", api_key: k\(extra)}
        """
    }

    static func chat(_ content: String, stream: Bool = false, extra: String = "") -> String {
        #"{"model":"m","stream":\#(stream),"messages":[{"role":"user","content":"\#(content)"}]\#(extra)}"#
    }

    func testStreamFailuresBeforeTheFirstEventAreJSONErrorsWithTheirStatus() async throws {
        let upstream = try await FakeOpenAIServer { request in
            switch request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue {
            case "500": return .json(status: 500, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#)
            case "429": return .json(status: 429, body: #"{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#, headers: [("Retry-After", "3")])
            case "head-only": return .raw("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n", close: false)
            default: return .hang
            }
        }
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, extra: ", stream_timeout: 1"))
        for (content, status) in [("500", 500), ("429", 429), ("silent", 408), ("head-only", 408)] {
            let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat(content, stream: true, extra: #","num_retries":0"#))
            XCTAssertEqual(r.status, status, content)
            XCTAssertEqual(r.header("content-type"), "application/json", "\(content): a JSON error, not a broken stream")
            let error = try JSONValue.parse(r.body)["error"]
            XCTAssertNotNil(error?["message"]?.stringValue, content)
            if status == 429 { XCTAssertEqual(r.header("retry-after"), "3", "the upstream's Retry-After is passed on") }
        }
        let records = await gateway.records.wait(for: 4)
        XCTAssertEqual(records.map(\.status).sorted(), [408, 408, 429, 500])
        XCTAssertEqual(Set(records.compactMap { $0.failure?.name }), ["server_error", "rate_limit", "timeout"])
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testAStreamWithGapsShorterThanStreamTimeoutArrivesWhole() async throws {
        let upstream = try await FakeOpenAIServer { _ in
            let words = (1...9).map { " w\($0)" }
            return .sse(events: FakeOpenAIServer.streamEvents(model: "m", words: words, includeUsage: false), delay: .milliseconds(300))
        }
        let gateway = try await GatewayHarness(yaml: Self.config(upstream, extra: ", stream_timeout: 1"))
        let started = Date()
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x", stream: true))
        XCTAssertEqual(r.status, 200)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 3.0, "12 events 300 ms apart")
        XCTAssertTrue(r.body.hasSuffix("data: [DONE]\n\n"), "the stream ran to its end: \(r.body.suffix(200))")
        XCTAssertFalse(r.body.contains(#""error""#))
        XCTAssertEqual(r.body.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.count, 11)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testUsageIsCountedAndTheExtraUsageChunkHiddenFromClientsThatDidNotAsk() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: Self.config(upstream))

        let plain = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x"))
        XCTAssertEqual(plain.status, 200)
        let stream = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x", stream: true))
        XCTAssertEqual(stream.status, 200)
        XCTAssertFalse(stream.body.contains(#""usage":{"#), "the client did not ask for usage: \(stream.body)")
        XCTAssertTrue(stream.body.hasSuffix("data: [DONE]\n\n"))
        XCTAssertEqual(upstream.requests.last?.json?["stream_options"]?["include_usage"]?.boolValue, true, "the gateway asks upstream for usage")
        let asked = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x", stream: true, extra: #","stream_options":{"include_usage":true}"#))
        XCTAssertTrue(asked.body.contains(#""usage":{"prompt_tokens":9"#), "a client that asked gets the usage chunk")

        let records = await gateway.records.wait(for: 3)
        XCTAssertEqual(records.count, 3)
        for r in records {
            XCTAssertEqual(r.usage, TokenUsage(promptTokens: 9, completionTokens: 4), "\(r.stream)")
            XCTAssertEqual(r.status, 200)
            XCTAssertNil(r.failure)
            XCTAssertEqual(r.attemptCount, 1)
            XCTAssertEqual(r.modelGroup, "m")
            XCTAssertGreaterThan(r.totalNanoseconds, 0)
            XCTAssertGreaterThan(r.timeToFirstByteNanoseconds, 0)
            XCTAssertLessThanOrEqual(r.overheadNanoseconds, r.totalNanoseconds)
        }
        XCTAssertEqual(records.filter(\.stream).count, 2)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testAnUpstreamWithoutUsageGetsAnEstimateMarkedAsSuch() async throws {
        let upstream = try await FakeOpenAIServer { _ in
            .json(status: 200, body: #"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}]}"#)
        }
        let gateway = try await GatewayHarness(yaml: Self.config(upstream))
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x")).status, 200)
        let records = await gateway.records.wait(for: 1)
        let record = try XCTUnwrap(records.first)
        XCTAssertEqual(record.usage?.estimated, true)
        XCTAssertGreaterThan(record.usage?.promptTokens ?? 0, 0)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testUpstreamRetryAfterAndRateLimitHeadersReachTheClient() async throws {
        let upstream = try await FakeOpenAIServer { request in
            if request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue == "limit" {
                return .json(status: 429, body: "rate limited, plain text", headers: [("retry-after", "7"), ("x-ratelimit-remaining-requests", "0")])
            }
            return .json(status: 200, body: FakeOpenAIServer.chatCompletion(model: "m", content: "ok"),
                         headers: [("x-ratelimit-remaining-requests", "41"), ("x-ratelimit-limit-tokens", "90000")])
        }
        let gateway = try await GatewayHarness(yaml: Self.config(upstream))
        let limited = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("limit", extra: #","num_retries":0"#))
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.header("retry-after"), "7")
        XCTAssertEqual(limited.header("x-ratelimit-remaining-requests"), "0")
        let error = try JSONValue.parse(limited.body)["error"]
        XCTAssertEqual(error?["type"]?.stringValue, "rate_limit_error")
        XCTAssertEqual(error?["message"]?.stringValue, "rate limited, plain text")
        let ok = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x"))
        XCTAssertEqual(ok.header("x-ratelimit-remaining-requests"), "41")
        XCTAssertEqual(ok.header("x-ratelimit-limit-tokens"), "90000")
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testMockResponseNullMeansAbsent() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: Self.config(upstream))
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x", extra: #","mock_response":null"#))
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.body.contains("Hello from fake upstream"), r.body)
        XCTAssertEqual(upstream.requests.count, 1)
        await gateway.shutdown()
        await upstream.shutdown()
    }

    func testAnUpstreamAnswerOverTheCapIs502() async throws {
        let big = String(repeating: "x", count: 5000)
        let upstream = try await FakeOpenAIServer { request in
            if request.json?["stream"]?.boolValue == true {
                return .sse(events: FakeOpenAIServer.streamEvents(model: "m", words: [big, big], includeUsage: false))
            }
            return .json(status: 200, body: FakeOpenAIServer.chatCompletion(model: "m", content: big))
        }
        let gateway = try await GatewayHarness(yaml: Self.config(upstream), maxUpstreamBodyBytes: 2000)
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x"))
        XCTAssertEqual(r.status, 502)
        XCTAssertTrue(r.body.contains("2000 bytes"), r.body)
        let stream = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x", stream: true))
        XCTAssertEqual(stream.status, 200, "streams are relayed, not buffered: the cap does not apply")
        XCTAssertTrue(stream.body.hasSuffix("data: [DONE]\n\n"))
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
