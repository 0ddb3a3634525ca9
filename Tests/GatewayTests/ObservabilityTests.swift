import Foundation
import OpenAIWire
import SwitchboardTesting
import XCTest

/// `/metrics` across worker processes, its auth, `/openapi.json` and the docs page, JSON logs:
/// the real `switchboard` binary, over loopback.
final class ObservabilityTests: XCTestCase {
    static let quiet = ["SWITCHBOARD_WATCH_CONFIG_SECONDS": "0"]

    func config(extra: String = "") -> String {
        """
        model_list:
          - model_name: plain
            litellm_params: {model: openai/plain, mock_response: "hello there", rpm: 100000}
            model_info: {id: plain-1}
        general_settings:
          master_key: sk-obs
        \(extra)
        """
    }

    func start(_ yaml: String, workers: Int = 2, environment: [String: String] = [:]) throws -> (GatewayProcess, Int) {
        let path = ScratchFiles.path("switchboard-obs", suffix: ".yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let process = try GatewayProcess(
            arguments: ["--config", path, "--num_workers", String(workers), "--host", "127.0.0.1", "--port", String(port)],
            environment: Self.quiet.merging(environment) { $1 })
        XCTAssertTrue(process.waitForOutput("Switchboard serving", timeout: 60), process.output)
        return (process, port)
    }

    static let key = [("Authorization", "Bearer sk-obs")]
    static let chat = #"{"model":"plain","messages":[{"role":"user","content":"hi"}]}"#

    /// The value of the one series of `name` whose labels contain all of `having`.
    func value(_ text: String, _ name: String, having: [String]) -> Double? {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
        let matching = lines.filter { line in having.allSatisfy { line.contains($0) } }
        guard matching.count == 1, let v = matching[0].split(separator: " ").last else { return nil }
        return Double(v)
    }

    func testOneScrapeShowsEveryWorker() throws {
        let (gateway, port) = try start(config())
        let n = 60
        for _ in 0..<n {
            // A new connection each time: the shared accept queue spreads them over the workers.
            let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", headers: Self.key, body: Self.chat)
            XCTAssertEqual(r.status, 200, r.body)
        }
        for _ in 0..<8 {
            let r = try TestHTTPClient(port: port).request("GET", "/metrics", headers: Self.key)
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
            let text = r.body
            XCTAssertEqual(value(text, "litellm_proxy_total_requests_metric_total", having: [#"requested_model="plain""#, #"status_code="200""#, #"route="/v1/chat/completions""#, #"model_id="plain-1""#, #"hashed_api_key="litellm_proxy_master_key""#]), Double(n), text)
            XCTAssertEqual(value(text, "litellm_requests_metric_total", having: [#"model="openai/plain""#]), Double(n), text)
            XCTAssertEqual(value(text, "litellm_request_total_latency_metric_count", having: [#"model_group="plain""#]), Double(n), text)
            XCTAssertEqual(value(text, "litellm_request_total_latency_metric_bucket", having: [#"le="+Inf""#]), Double(n), text)
            XCTAssertEqual(value(text, "litellm_deployment_total_requests_total", having: [#"litellm_model_name="openai/plain""#]), Double(n), text)
            XCTAssertEqual(value(text, "litellm_workers", having: []), 2, text)
            XCTAssertNotNil(value(text, "litellm_deployment_rpm_limit", having: [#"model_id="plain-1""#]), text)
            for family in ["litellm_input_tokens_metric", "litellm_output_tokens_metric", "litellm_overhead_latency_metric", "litellm_in_flight_requests"] {
                XCTAssertTrue(text.contains("# TYPE \(family) "), family)
            }
        }
        // A bad request counts as a failure with its status and class.
        let bad = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", headers: Self.key, body: #"{"model":"nope","messages":[]}"#)
        XCTAssertGreaterThanOrEqual(bad.status, 400)
        let after = try TestHTTPClient(port: port).request("GET", "/metrics", headers: Self.key).body
        XCTAssertNotNil(value(after, "litellm_proxy_failed_requests_metric_total", having: [#"requested_model="other""#, #"exception_status="\#(bad.status)""#]), after)

        // Auth: the master key is needed, and the 401 names the setting that opens it.
        let denied = try TestHTTPClient(port: port).request("GET", "/metrics")
        XCTAssertEqual(denied.status, 401)
        XCTAssertTrue(denied.body.contains("require_auth_for_metrics_endpoint"), denied.body)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
    }

    func testCountsSurviveAKilledWorker() throws {
        let (gateway, port) = try start(config())
        for _ in 0..<20 {
            XCTAssertEqual(try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", headers: Self.key, body: Self.chat).status, 200)
        }
        let workers = ProcessTable.children(of: gateway.process.processIdentifier)
        kill(workers[0], SIGKILL)
        XCTAssertTrue(gateway.waitForOutput("died"), gateway.output)
        XCTAssertTrue(ProcessTable.wait(timeout: 30) { ProcessTable.children(of: gateway.process.processIdentifier).count == 2 })
        for _ in 0..<20 {
            let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", headers: Self.key, body: Self.chat)
            if r.status != 200 { XCTFail("\(r.status)") }
        }
        let text = try TestHTTPClient(port: port).request("GET", "/metrics", headers: Self.key).body
        XCTAssertEqual(value(text, "litellm_proxy_total_requests_metric_total", having: [#"status_code="200""#]), 40, "the dead worker's counts stay: \(text)")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
    }

    func testMetricsOpenWithTheSettingAndJSONLogs() throws {
        let (gateway, port) = try start(config(extra: "litellm_settings:\n  require_auth_for_metrics_endpoint: false\n  json_logs: true\n"), workers: 1)
        XCTAssertEqual(try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", headers: Self.key, body: Self.chat).status, 200)
        XCTAssertEqual(try TestHTTPClient(port: port).request("GET", "/metrics").status, 200)
        XCTAssertEqual(try TestHTTPClient(port: port).request("GET", "/v1/models").status, 401, "only /metrics opens")
        XCTAssertTrue(gateway.waitForOutput(#""call_id""#), gateway.output)
        let line = gateway.output.split(separator: "\n").first { $0.contains(#""call_id""#) }.map(String.init) ?? ""
        let json = try JSONValue.parse(line)
        XCTAssertEqual(json["level"]?.stringValue, "info")
        XCTAssertEqual(json["message"]?.stringValue, "request")
        XCTAssertEqual(json["model_group"]?.stringValue, "plain")
        XCTAssertEqual(json["deployment_id"]?.stringValue, "plain-1")
        XCTAssertEqual(json["status"]?.intValue, 200)
        XCTAssertNotNil(json["latency_ms"]?.doubleValue)
        XCTAssertNotNil(json["total_tokens"]?.intValue)
        XCTAssertEqual(json["call_id"]?.stringValue?.count, 36)
        XCTAssertFalse(gateway.output.contains("sk-obs"), "never a secret")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0)
    }

    func testOpenAPIIsValidAndDocsServed() throws {
        let (gateway, port) = try start(config(), workers: 1)
        let spec = try TestHTTPClient(port: port).request("GET", "/openapi.json")
        XCTAssertEqual(spec.status, 200, "docs need no key, as in LiteLLM")
        let paths = try JSONValue.parse(spec.body)["paths"]?.objectValue?.map(\.key) ?? []
        for path in ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/v1/model/info", "/utils/token_counter", "/health/readiness", "/metrics", "/openapi.json", "/", "/openai/deployments/{model}/chat/completions"] {
            XCTAssertTrue(paths.contains(path), path)
        }
        let file = ScratchFiles.path("switchboard-openapi", suffix: ".json")
        try spec.body.write(toFile: file, atomically: true, encoding: .utf8)
        let validator = Process()
        validator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        validator.arguments = ["python3", "-c", "import sys, json; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')", file]
        let out = Pipe()
        validator.standardOutput = out
        validator.standardError = out
        try validator.run()
        validator.waitUntilExit()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(validator.terminationStatus, 0, "openapi-spec-validator (scripts/setup installs it): \(report)")
        let page = try TestHTTPClient(port: port).request("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("swagger-ui") && page.body.contains("/openapi.json"), page.body)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0)

        let (noDocs, port2) = try start(config(), workers: 1, environment: ["NO_DOCS": "True"])
        XCTAssertEqual(try TestHTTPClient(port: port2).request("GET", "/openapi.json").status, 404)
        XCTAssertEqual(try TestHTTPClient(port: port2).request("GET", "/").status, 404)
        noDocs.signal(SIGTERM)
        XCTAssertEqual(noDocs.waitForExit(), 0)
    }
}
