import Callbacks
import Foundation
import Logging
import Metrics
import NIOPosix
import OpenAIWire
import Synchronization
import SwitchboardConfig
import SwitchboardTesting
import XCTest

/// The `otel` and `langfuse` callbacks against a fake OTLP/HTTP collector on a real socket:
/// what arrives (path, headers, auth, every span and attribute), exact timings, and that a
/// slow or failing collector never slows a request nor loses what the queue holds.
final class TraceCallbackTests: XCTestCase {
    /// An upstream whose chats answer 500 when the user says "fail", and 500 once for "flaky".
    func upstream() async throws -> FakeOpenAIServer {
        let flakyServed = OnceFlag()
        return try await FakeOpenAIServer { request in
            let content = request.json?["messages"]?.arrayValue?.first?["content"]?.stringValue
            let error = FakeResponse.json(status: 500, body: #"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#)
            if content == "fail" { return error }
            if content == "flaky", !flakyServed.testAndSet() { return error }
            return FakeOpenAIServer.standardResponse(request)
        }
    }

    func yaml(_ upstream: FakeOpenAIServer, callbacks: String) -> String {
        """
        model_list:
          - model_name: m
            litellm_params: {model: openai/gpt-m, api_base: "\(upstream.baseURL)", api_key: k}
            model_info: {id: dep-1, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
        litellm_settings:
          callbacks: \(callbacks)
        router_settings: {num_retries: 1, allowed_fails: 100}
        """
    }

    /// (A parameter whose key is escaped, `top_p`, reaches Langfuse as the request wrote it.)
    static let chat = #"{"model":"m","temperature":0.5,"top\u005fp":0.9,"messages":[{"role":"user","content":"hello"}]}"#
    static func chat(_ content: String, stream: Bool = false) -> String {
        #"{"model":"m","stream":\#(stream),"messages":[{"role":"user","content":"\#(content)"}]}"#
    }

    func testOtelSendsOneSpanPerCallAndOnePerAttemptWithGenAIAttributesAndExactTimings() async throws {
        try await checkOtelSpans(protocol: nil)
    }

    func testOtelOverHTTPJSONSendsTheSameSpans() async throws {
        try await checkOtelSpans(protocol: "http/json")
    }

    /// `protocol`: `OTEL_EXPORTER_OTLP_PROTOCOL` (`nil`: the default, `http/protobuf`).
    func checkOtelSpans(protocol: String?) async throws {
        let upstream = try await upstream()
        let collector = try await FakeOTLPCollector()
        var env = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.baseURL + "/", "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=blue%20team,x-other=1",
            "OTEL_SERVICE_NAME": "gateway-under-test", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
            "OTEL_BSP_SCHEDULE_DELAY": "50",
        ]
        if let `protocol` { env["OTEL_EXPORTER_OTLP_PROTOCOL"] = `protocol` }
        let (gateway, _) = try await gatewayWithCallbacks(yaml(upstream, callbacks: #"["otel"]"#), env: env)
        let ok = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("flaky"))
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("fail")).status, 500)
        let records = await gateway.records.wait(for: 2)
        let spans = await collector.waitForSpans { s in s.filter { $0.parentSpanID == nil }.count >= 2 }

        let request = try XCTUnwrap(collector.requests.first)
        if `protocol` == "http/json" {
            XCTAssertTrue(request.body.contains(#""intValue":9"#), "integers as JSON numbers")
            XCTAssertEqual(request.header("content-type"), "application/json")
        } else {
            XCTAssertEqual(request.header("content-type"), "application/x-protobuf")
            XCTAssertNil(request.json, "binary protobuf, not JSON")
        }
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.uri, "/v1/traces")
        XCTAssertEqual(request.header("x-tenant"), "blue team")
        XCTAssertEqual(request.header("x-other"), "1")

        // The successful call: its trace id is the call id, one child per attempt.
        let callID = try XCTUnwrap(ok.header("x-litellm-call-id"))
        let traceID = callID.replacingOccurrences(of: "-", with: "")
        let root = try XCTUnwrap(spans.first { $0.traceID == traceID && $0.parentSpanID == nil })
        XCTAssertEqual(root.name, "chat m")
        XCTAssertEqual(root.kind, 2)
        XCTAssertEqual(root.scope, "switchboard")
        XCTAssertEqual(root.resource["service.name"], "gateway-under-test")
        XCTAssertEqual(root.resource["deployment.environment"], "test")
        XCTAssertEqual(root["gen_ai.operation.name"], "chat")
        XCTAssertEqual(root["gen_ai.system"], "openai")
        XCTAssertEqual(root["gen_ai.request.model"], "m")
        XCTAssertEqual(root["gen_ai.response.model"], "gpt-m")
        XCTAssertEqual(root["gen_ai.usage.input_tokens"], "9")
        XCTAssertEqual(root["gen_ai.usage.output_tokens"], "4")
        XCTAssertEqual(Double(root["gen_ai.usage.cost"] ?? "") ?? 0, 9 * 0.001 + 4 * 0.002, accuracy: 1e-9)
        XCTAssertEqual(root["http.response.status_code"], "200")
        XCTAssertEqual(root["switchboard.call_id"], callID)
        XCTAssertEqual(root["switchboard.deployment_id"], "dep-1")
        XCTAssertEqual(root["switchboard.attempts"], "2")
        XCTAssertEqual(root.statusCode, 0)
        XCTAssertNil(root["error.type"])
        XCTAssertNil(root["langfuse.observation.type"], "no Langfuse attributes in plain OTel traces")
        XCTAssertNil(root["langfuse.observation.input"], "no message content in plain OTel traces")

        let children = spans.filter { $0.parentSpanID == root.spanID }.sorted { $0.startUnixNanos < $1.startUnixNanos }
        XCTAssertEqual(children.count, 2)
        XCTAssertEqual(children.map(\.kind), [3, 3])
        XCTAssertEqual(children.map(\.name), ["chat gpt-m", "chat gpt-m"])
        XCTAssertEqual(children.map { $0.traceID }, [traceID, traceID])
        XCTAssertEqual(children[0]["error.type"], "server_error")
        XCTAssertEqual(children[0]["http.response.status_code"], "500")
        XCTAssertEqual(children[0].statusCode, 2)
        XCTAssertEqual(children[0]["switchboard.attempt.reason"], "first")
        XCTAssertEqual(children[1]["switchboard.attempt.reason"], "retry")
        XCTAssertEqual(children[1].statusCode, 0)

        // Exact timings: the span lasts the record's total; attempts sit at their offsets.
        let record = try XCTUnwrap(records.first { $0.callID == callID })
        XCTAssertNil(record.requestBody, "otel alone keeps no request body past the call")
        XCTAssertNil(record.responseBody)
        XCTAssertEqual(root.endUnixNanos - root.startUnixNanos, record.totalNanoseconds)
        for (span, attempt) in zip(children, record.attempts) {
            XCTAssertEqual(span.startUnixNanos - root.startUnixNanos, attempt.startNanoseconds)
            XCTAssertEqual(span.endUnixNanos - span.startUnixNanos, attempt.durationNanoseconds)
            XCTAssertLessThanOrEqual(span.endUnixNanos, root.endUnixNanos)
        }
        XCTAssertLessThan(abs(Double(root.endUnixNanos) / 1e9 - Date().timeIntervalSince1970), 30, "wall-clock times")

        // The failed call: an error span with the failure's class.
        let failed = try XCTUnwrap(spans.first { $0.parentSpanID == nil && $0.traceID != traceID })
        XCTAssertEqual(failed.statusCode, 2)
        XCTAssertEqual(failed["error.type"], "server_error")
        XCTAssertEqual(failed["http.response.status_code"], "500")
        XCTAssertNotNil(failed.statusMessage)
        await gateway.shutdown()
        await upstream.shutdown()
        await collector.shutdown()
    }

    func testLangfuseGetsBasicAuthAndGenerationsBesideAnOtelCollector() async throws {
        let upstream = try await upstream()
        let langfuse = try await FakeOTLPCollector()
        let otel = try await FakeOTLPCollector()
        let env = [
            "LANGFUSE_HOST": langfuse.baseURL, "LANGFUSE_PUBLIC_KEY": "pk-lf-test", "LANGFUSE_SECRET_KEY": "sk-lf-secret",
            // Set for the otel callback; they must not redirect Langfuse's traces or replace its auth.
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": otel.baseURL + "/v1/traces", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20otel",
            "DEFAULT_FLUSH_INTERVAL_SECONDS": "0.05",
        ]
        let (gateway, _) = try await gatewayWithCallbacks(yaml(upstream, callbacks: #"["langfuse", "otel"]"#), env: env)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("streamed", stream: true)).status, 200)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("fail")).status, 500)
        let spans = await langfuse.waitForSpans { s in s.filter { $0.parentSpanID == nil }.count >= 3 }
        let records = await gateway.records.wait(for: 3)
        XCTAssertTrue(records.allSatisfy { $0.requestBody != nil }, "langfuse logs the input: records keep it")
        _ = await otel.waitForSpans { s in s.filter { $0.parentSpanID == nil }.count >= 3 }

        for request in langfuse.requests {
            XCTAssertEqual(request.uri, "/api/public/otel/v1/traces")
            XCTAssertEqual(request.header("content-type"), "application/x-protobuf", "as LiteLLM's Langfuse exporter sends")
            XCTAssertEqual(request.header("authorization"), "Basic " + Data("pk-lf-test:sk-lf-secret".utf8).base64EncodedString())
        }
        for request in otel.requests {
            XCTAssertEqual(request.uri, "/v1/traces")
            XCTAssertEqual(request.header("authorization"), "Bearer otel")
        }
        XCTAssertEqual(otel.spans.filter { $0.parentSpanID == nil }.count, 3)
        XCTAssertEqual(langfuse.spans.filter { $0.parentSpanID == nil }.count, 3)

        let roots = spans.filter { $0.parentSpanID == nil }
        let plain = try XCTUnwrap(roots.first { $0["langfuse.observation.input"]?.contains("hello") == true })
        XCTAssertEqual(plain["langfuse.observation.type"], "generation")
        XCTAssertEqual(plain["langfuse.trace.name"], "litellm-acompletion")
        XCTAssertEqual(plain["langfuse.observation.model.name"], "gpt-m")
        XCTAssertEqual(plain["gen_ai.request.model"], "m")
        let input = try XCTUnwrap(plain["langfuse.observation.input"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(input.arrayValue?.first?["role"]?.stringValue, "user")
        XCTAssertEqual(input.arrayValue?.first?["content"]?.stringValue, "hello")
        // Langfuse copies a trace's input and output from its root observation (this span).
        XCTAssertNil(plain["langfuse.trace.input"], "not sent twice")
        XCTAssertNil(plain["langfuse.trace.output"], "not sent twice")
        let output = try XCTUnwrap(plain["langfuse.observation.output"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(output.arrayValue?.first?["message"]?["role"]?.stringValue, "assistant")
        XCTAssertNotNil(output.arrayValue?.first?["message"]?["content"]?.stringValue)
        let usage = try XCTUnwrap(plain["langfuse.observation.usage_details"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(usage["input"]?.intValue, 9)
        XCTAssertEqual(usage["output"]?.intValue, 4)
        XCTAssertEqual(usage["total"]?.intValue, 13)
        let cost = try XCTUnwrap(plain["langfuse.observation.cost_details"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(cost["input"]?.doubleValue ?? 0, 0.009, accuracy: 1e-9)
        XCTAssertEqual(cost["output"]?.doubleValue ?? 0, 0.008, accuracy: 1e-9)
        XCTAssertEqual(cost["total"]?.doubleValue ?? 0, 0.017, accuracy: 1e-9)
        let parameters = try XCTUnwrap(plain["langfuse.observation.model.parameters"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(parameters["temperature"]?.doubleValue, 0.5)
        XCTAssertEqual(parameters["top_p"]?.doubleValue, 0.9)
        XCTAssertEqual(parameters.objectValue?.count, 2)
        let metadata = try XCTUnwrap(plain["langfuse.observation.metadata"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(metadata["model_group"]?.stringValue, "m")
        XCTAssertEqual(metadata["model_id"]?.stringValue, "dep-1")
        XCTAssertEqual(metadata["status_code"]?.intValue, 200)
        XCTAssertNotNil(metadata["latency_ms"]?.doubleValue)
        XCTAssertNil(plain["langfuse.trace.metadata"], "the observation carries the metadata, as LiteLLM's does")
        XCTAssertGreaterThan(plain.endUnixNanos, plain.startUnixNanos, "latency is the span's duration")
        XCTAssertNil(plain["langfuse.observation.level"])

        let streamed = try XCTUnwrap(roots.first { $0["langfuse.observation.input"]?.contains("streamed") == true })
        let firstTokenJSON = try XCTUnwrap(streamed["langfuse.observation.completion_start_time"])
        let firstToken = try XCTUnwrap(try? JSONValue.parse(firstTokenJSON).stringValue, "a JSON string, as Langfuse parses it")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let firstTokenAt = try XCTUnwrap(formatter.date(from: firstToken), firstToken)
        let spanStart = Date(timeIntervalSince1970: Double(streamed.startUnixNanos) / 1e9)
        let spanEnd = Date(timeIntervalSince1970: Double(streamed.endUnixNanos) / 1e9)
        XCTAssertTrue(firstTokenAt >= spanStart.addingTimeInterval(-0.001) && firstTokenAt <= spanEnd.addingTimeInterval(0.001), "\(firstToken) within the span")
        let streamedMetadata = try XCTUnwrap(streamed["langfuse.observation.metadata"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(streamedMetadata["stream"]?.boolValue, true)
        XCTAssertEqual(streamedMetadata["call_id"]?.stringValue?.count, 36, "the call id is in the metadata")
        for attribute in ["switchboard.stream", "switchboard.call_id", "switchboard.deployment_id", "http.route", "http.response.status_code"] {
            XCTAssertNil(streamed[attribute], "\(attribute): in the metadata already, not twice in Langfuse's")
        }
        XCTAssertNotNil(streamed["gen_ai.usage.input_tokens"], "Langfuse reads usage from gen_ai.usage.*")
        let streamedOutput = try XCTUnwrap(streamed["langfuse.observation.output"].flatMap { try? JSONValue.parse($0) })
        let streamedText = try XCTUnwrap(streamedOutput.arrayValue?.first?["message"]?["content"]?.stringValue)
        XCTAssertEqual(streamedText, "Hello from fake upstream", "a stream's answer is assembled from its events")
        XCTAssertEqual(streamedOutput.arrayValue?.first?["finish_reason"]?.stringValue, "stop")

        let failed = try XCTUnwrap(roots.first { $0["langfuse.observation.input"]?.contains("fail") == true })
        XCTAssertEqual(failed["langfuse.observation.level"], "ERROR")
        XCTAssertTrue(failed["langfuse.observation.status_message"]?.contains("500") == true, failed.attributes.description)
        XCTAssertEqual(failed.statusCode, 2)
        XCTAssertFalse(spans.contains { $0.parentSpanID == plain.spanID }, "one successful attempt: the generation alone")
        XCTAssertTrue(spans.contains { $0.parentSpanID == failed.spanID }, "a failed attempt is shown")
        for child in spans where child.parentSpanID != nil {
            XCTAssertEqual(child["langfuse.observation.type"], "span")
            XCTAssertNil(child["gen_ai.request.model"], "Langfuse would make an attempt naming a model a second generation")
            XCTAssertEqual(child["switchboard.model"], "gpt-m")
        }
        await gateway.shutdown()
        await upstream.shutdown()
        await langfuse.shutdown()
        await otel.shutdown()
    }

    func testLangfuseLogsAMockedStreamsAnswer() async throws {
        let langfuse = try await FakeOTLPCollector()
        let env = ["LANGFUSE_HOST": langfuse.baseURL + "/", "LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_FLUSH_INTERVAL": "0.05"]
        let (gateway, _) = try await gatewayWithCallbacks("""
            model_list:
              - {model_name: m, litellm_params: {model: openai/a, mock_response: "a mocked answer"}, model_info: {id: dep-mock}}
            litellm_settings: {success_callback: [langfuse]}
            """, env: env)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", body: Self.chat("hi", stream: true)).status, 200)
        let spans = await langfuse.waitForSpans { !$0.isEmpty }
        XCTAssertEqual(langfuse.requests.first?.uri, "/api/public/otel/v1/traces", "a trailing slash on LANGFUSE_HOST is dropped")
        let output = try XCTUnwrap(spans.first?["langfuse.observation.output"].flatMap { try? JSONValue.parse($0) })
        XCTAssertEqual(output.arrayValue?.first?["message"]?["content"]?.stringValue, "a mocked answer")
        await gateway.shutdown()
        await langfuse.shutdown()
    }

    func testACollectorAnswering500DoesNotSlowCallsAndLosesNothing() async throws {
        let upstream = try await upstream()
        // The first three POSTs fail; the retries with backoff then deliver everything.
        let collector = try await FakeOTLPCollector { n, _ in
            n < 3 ? .json(status: 500, body: #"{"message":"collector down"}"#) : FakeOTLPCollector.ok
        }
        let slack = try await FakeOpenAIServer()
        var yaml = yaml(upstream, callbacks: #"["otel"]"#)
        yaml += "\ngeneral_settings: {alerting: [slack]}\n"
        let env = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.baseURL, "OTEL_BSP_SCHEDULE_DELAY": "20", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",
            "SLACK_WEBHOOK_URL": "http://127.0.0.1:\(slack.port)/slack", "DEFAULT_FLUSH_INTERVAL_SECONDS": "0.05",
        ]
        let (gateway, callbacks) = try await gatewayWithCallbacks(yaml, env: env)
        let client = try gateway.client()
        let started = ContinuousClock.now
        for _ in 0..<100 {
            XCTAssertEqual(try client.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        }
        let elapsed = ContinuousClock.now - started
        let spans = await collector.waitForSpans { s in Set(s.filter { $0.parentSpanID == nil }.map(\.traceID)).count >= 100 }
        XCTAssertEqual(Set(spans.filter { $0.parentSpanID == nil }.map(\.traceID)).count, 100, "every call arrives once the collector recovers")
        XCTAssertGreaterThanOrEqual(collector.requests.count, 4)
        XCTAssertEqual(callbacks.dropped("otel"), 0)
        print("100 calls with a failing collector: \(elapsed)")
        XCTAssertLessThan(elapsed, .seconds(8), "a failing collector must not slow the calls")

        // The failures are counted in /metrics and alerted on Slack (once).
        let metrics = try gateway.request("GET", "/metrics").body
        let failedLine = metrics.split(separator: "\n").first { $0.hasPrefix(#"litellm_callback_failed_deliveries_metric_total{callback="otel""#) }
        XCTAssertEqual(failedLine.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }, 3, metrics)
        let alerts = await waitForAlerts(slack, kind: "callback_failures", count: 1)
        XCTAssertEqual(alerts.count, 1, "one alert for one failing callback")
        XCTAssertTrue(alerts.first?.contains("Callback otel is failing: the endpoint answered 500") == true, alerts.description)
        await gateway.shutdown()
        await upstream.shutdown()
        await collector.shutdown()
        await slack.shutdown()
    }

    func testAHangingCollectorDoesNotSlowCallsAndAFullQueueDropsAndCounts() async throws {
        let upstream = try await upstream()
        let collector = try await FakeOTLPCollector { _, _ in .hang }
        let env = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.baseURL, "OTEL_BSP_SCHEDULE_DELAY": "20", "OTEL_BSP_MAX_QUEUE_SIZE": "50",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10", "OTEL_EXPORTER_OTLP_TIMEOUT": "60000",
        ]
        let (gateway, callbacks) = try await gatewayWithCallbacks(yaml(upstream, callbacks: #"["otel"]"#), env: env)
        let client = try gateway.client()
        let started = ContinuousClock.now
        for _ in 0..<300 {
            XCTAssertEqual(try client.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        }
        let elapsed = ContinuousClock.now - started
        // The same calls with no callback, for comparison.
        let plain = try await GatewayHarness(yaml: yaml(upstream, callbacks: "[]"))
        let plainClient = try plain.client()
        let plainStarted = ContinuousClock.now
        for _ in 0..<300 {
            XCTAssertEqual(try plainClient.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        }
        let baseline = ContinuousClock.now - plainStarted
        await plain.shutdown()
        print("300 calls with a hanging collector: \(elapsed); without callbacks: \(baseline); dropped \(callbacks.dropped("otel"))")
        XCTAssertLessThan(elapsed, baseline * 3 + .seconds(2), "a hanging collector must not slow the calls")
        // One batch of 10 hangs in its POST; 50 wait in the queue; the rest were dropped and counted.
        XCTAssertGreaterThanOrEqual(callbacks.dropped("otel"), 300 - 50 - 10)
        let metrics = try gateway.request("GET", "/metrics").body
        let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"litellm_callback_dropped_events_metric_total{callback="otel""#) }
        XCTAssertEqual(line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }, callbacks.dropped("otel"))
        await gateway.shutdown()
        await upstream.shutdown()
        await collector.shutdown()
    }

    func testASenderOutlivingItsGatewayCountsFailuresSafely() async throws {
        // The failure counter lives in the gateway's shared metrics memory: a sender whose POST
        // fails after the gateway is gone must still find it mapped (it wrote into freed memory).
        let upstream = try await upstream()
        let collector = try await FakeOTLPCollector { _, _ in .hang }
        let env = ["OTEL_EXPORTER_OTLP_ENDPOINT": collector.baseURL, "OTEL_BSP_SCHEDULE_DELAY": "20", "OTEL_EXPORTER_OTLP_TIMEOUT": "300"]
        var gateway: GatewayHarness? = nil
        let callbacks: Callbacks
        do {
            let (g, c) = try await gatewayWithCallbacks(yaml(upstream, callbacks: #"["otel"]"#), env: env)
            gateway = g
            callbacks = c
        }
        XCTAssertEqual(try gateway?.request("POST", "/v1/chat/completions", body: Self.chat).status, 200)
        await gateway?.shutdown()
        gateway = nil
        // The POST times out (300 ms) and is retried: each failure is counted.
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, callbacks.failures("otel") < 2 { try await Task.sleep(for: .milliseconds(50)) }
        XCTAssertGreaterThanOrEqual(callbacks.failures("otel"), 2)
        await collector.shutdown()
        await upstream.shutdown()
    }

    func testUnknownCallbackNamesAndMissingKeysAreWarningsNotCrashes() async throws {
        let upstream = try await upstream()
        let logs = CapturedLog()
        let config = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(
            yaml: yaml(upstream, callbacks: #"["no_such_callback", "langfuse", "otel"]"#))
        let callbacks = Callbacks(
            config: config, environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], group: MultiThreadedEventLoopGroup.singleton,
            logger: logs.logger)
        XCTAssertEqual(
            config.warnings.first { $0.path.hasPrefix("litellm_settings.callbacks") }?.description,
            "litellm_settings.callbacks[0]: callback 'no_such_callback' is not supported by this Switchboard build; its events are not sent")
        XCTAssertTrue(logs.lines.contains { $0.contains("callback 'langfuse' needs LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY") }, logs.lines.description)
        XCTAssertTrue(logs.lines.contains { $0.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc") }, logs.lines.description)
        XCTAssertEqual(callbacks.sharedSinks().count, 1, "otel still runs")
        await callbacks.stop()
        await upstream.shutdown()
    }

}

extension XCTestCase {
    /// A harness whose callbacks are made as a worker makes them (its metrics slot included).
    func gatewayWithCallbacks(_ yaml: String, env: [String: String]) async throws -> (GatewayHarness, Callbacks) {
        let box = CallbacksBox()
        let harness = try await GatewayHarness(yaml: yaml, environment: env, extras: { gateway in
            let c = Callbacks(
                config: gateway.config, environment: env, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"),
                metrics: gateway.metricsSlot, sharedClaims: gateway.sharedClaims)
            box.set(c)
            return GatewayExtras(loopSinks: c.sinks(on:), monitors: c.monitors)
        })
        return (harness, box.get()!)
    }

    func waitForAlerts(_ slack: FakeOpenAIServer, kind: String, count: Int, timeout: Double = 15) async -> [String] {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        func alerts() -> [String] {
            slack.requests.compactMap { $0.json?["text"]?.stringValue }
                .flatMap { $0.components(separatedBy: "Alert type: `").dropFirst() }
                .filter { $0.hasPrefix(kind + "`") }
        }
        while ContinuousClock.now < deadline, alerts().count < count { try? await Task.sleep(for: .milliseconds(20)) }
        return alerts()
    }
}

/// True from the second `testAndSet` on.
final class OnceFlag: Sendable {
    private let set = Mutex(false)
    func testAndSet() -> Bool { set.withLock { s in defer { s = true }; return s } }
}
