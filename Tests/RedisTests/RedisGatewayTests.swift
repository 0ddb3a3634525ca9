import Foundation
import Synchronization
import OpenAIWire
import SwitchboardTesting
import XCTest

/// Real `switchboard` processes sharing one real `redis-server`: cluster-wide rpm, cooldown
/// propagation between processes, Redis killed under load, and Slack alerts sent once for both.
final class RedisGatewayTests: XCTestCase {
    var redis: RedisServer!
    let gateways = GatewayProcesses()

    override func setUp() async throws {
        redis = try RedisServer()
    }

    override func tearDown() async throws {
        gateways.stopAll()
        redis?.stop()
    }

    var redisSettings: String {
        "redis_host: 127.0.0.1, redis_port: \(redis.port), redis_timeout_ms: 250"
    }

    static func chat(_ model: String) -> String {
        #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#
    }

    /// Sends `count` requests spread over `ports` from `threads` threads; the statuses and bodies.
    static func load(_ ports: [Int], model: String, count: Int, threads: Int = 4, body: String? = nil) -> [(status: Int, body: String)] {
        let out = Mutex<[(status: Int, body: String)]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var mine: [(status: Int, body: String)] = []
            var i = t
            while i < count {
                let port = ports[i % ports.count]
                if let r = try? TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: body ?? Self.chat(model)) {
                    mine.append((r.status, r.body))
                } else {
                    mine.append((0, ""))
                }
                i += threads
            }
            out.withLock { $0 += mine }
        }
        return out.withLock { $0 }
    }

    func testTwoGatewaysShareOneRPMLimitExactly() throws {
        let yaml = """
            model_list:
              - {model_name: m, litellm_params: {model: openai/m, mock_response: hi, rpm: 60}, model_info: {id: shared-rpm}}
            router_settings: {\(redisSettings)}
            """
        let ports = [try gateways.start(yaml), try gateways.start(yaml)]
        let started = Date()
        let answers = Self.load(ports, model: "m", count: 120)
        let admitted = answers.filter { $0.status == 200 }.count
        print("rpm 60 offered 120 across 2 gateways: \(admitted) admitted, \(answers.filter { $0.status == 429 }.count) refused with 429, in \(Date().timeIntervalSince(started)) s")
        XCTAssertTrue((59...60).contains(admitted), "within [0.99 R, R]: \(admitted)")
        XCTAssertEqual(answers.filter { $0.status != 200 && $0.status != 429 }.count, 0)
    }

    func testTwoGatewaysShareOneTPMLimitExactly() async throws {
        // The upstream reports exactly the tokens the gateway reserves (prompt bytes / 4 + max_tokens),
        // so the settled usage equals the reservation and the limit admits tpm / tokens requests.
        let body = #"{"model":"t","max_tokens":96,"messages":[{"role":"user","content":"count my tokens"}]}"#
        let tokens = body.utf8.count / 4 + 96
        let upstream = try await FakeOpenAIServer { _ in
            .json(status: 200, body: #"{"id":"c","object":"chat.completion","created":1,"model":"t","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":\#(tokens - 1),"completion_tokens":1,"total_tokens":\#(tokens)}}"#)
        }
        let yaml = """
            model_list:
              - {model_name: t, litellm_params: {model: openai/t, api_base: "\(upstream.baseURL)", api_key: k, tpm: \(30 * tokens)}, model_info: {id: shared-tpm}}
            router_settings: {\(redisSettings)}
            """
        let ports = [try gateways.start(yaml), try gateways.start(yaml)]
        let answers = Self.load(ports, model: "t", count: 60, body: body)
        let admitted = answers.filter { $0.status == 200 }.count
        print("tpm \(30 * tokens) (\(tokens) tokens a request) offered 60 requests across 2 gateways: \(admitted) admitted")
        XCTAssertTrue((30...30).contains(admitted), "tpm / tokens = 30: \(admitted)")
        XCTAssertEqual(answers.filter { $0.status != 200 && $0.status != 429 }.count, 0)
        await upstream.shutdown()
    }

    func testACooldownInOneGatewayIsSeenByTheOtherAtOnce() throws {
        // Same deployment ids in both; in A, deployment "flaky" answers 429s.
        func yaml(flaky: String) -> String {
            """
            model_list:
              - {model_name: m, litellm_params: {model: openai/a, mock_response: "\(flaky)"}, model_info: {id: flaky}}
              - {model_name: m, litellm_params: {model: openai/b, mock_response: "from-steady"}, model_info: {id: steady}}
            router_settings: {\(redisSettings), num_retries: 2, cooldown_time: 30}
            """
        }
        let a = try gateways.start(yaml(flaky: "litellm.RateLimitError"))
        let b = try gateways.start(yaml(flaky: "from-flaky"))
        var failedAt: Date?
        for _ in 0..<40 {
            _ = try TestHTTPClient(port: a).request("POST", "/v1/chat/completions", body: Self.chat("m"))
            if redis.cli("EXISTS", "sb:v1:{flaky}:cool") == "1" {
                failedAt = Date()
                break
            }
        }
        guard let failedAt else { return XCTFail("A never hit its failing deployment") }
        var firstSkipped: Double?
        var bodies: [String] = []
        for _ in 0..<20 {
            let r = try TestHTTPClient(port: b).request("POST", "/v1/chat/completions", body: Self.chat("m"))
            if firstSkipped == nil { firstSkipped = Date().timeIntervalSince(failedAt) * 1000 }
            bodies.append(r.body)
        }
        print("cooldown set by gateway A; gateway B's first request after it answered \(firstSkipped ?? -1) ms later, skipping it: \(bodies.allSatisfy { $0.contains("from-steady") })")
        XCTAssertTrue(bodies.allSatisfy { $0.contains("from-steady") }, "B skips the deployment A cooled down")
        XCTAssertLessThan(firstSkipped ?? 1000, 100)
    }

    func testAClientLeavingWhileItsAdmissionWaitsOnRedisIsSettledSafely() throws {
        let port = try gateways.start("""
            model_list:
              - {model_name: m, litellm_params: {model: openai/m, mock_response: hi, rpm: 1000}, model_info: {id: gone}}
            router_settings: {\(redisSettings)}
            """)
        XCTAssertEqual(try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: Self.chat("m")).status, 200)
        redis.cli("CLIENT", "PAUSE", "150")
        for _ in 0..<5 {
            let client = try TestHTTPClient(port: port)
            try client.sendRequest("POST", "/v1/chat/completions", body: Self.chat("m"))
            client.disconnect()
        }
        Thread.sleep(forTimeInterval: 0.4)
        XCTAssertEqual(try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: Self.chat("m")).status, 200)
        XCTAssertFalse(gateways[0].output.contains("Fatal error"), gateways[0].output)
        XCTAssertFalse(gateways[0].output.contains("died"), gateways[0].output)
    }

    func testRedisKilledUnderLoadCostsNo5xxAndLimitsResume() throws {
        let port = try gateways.start("""
            model_list:
              - {model_name: m, litellm_params: {model: openai/m, mock_response: hi, rpm: 1000000}, model_info: {id: fault}}
            router_settings: {\(redisSettings)}
            """)
        let running = Atomic<Bool>(true)
        let collected = Mutex<[Int]>([])
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var mine: [Int] = []
            while running.load(ordering: .relaxed) {
                mine.append((try? TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: Self.chat("m")).status) ?? 0)
            }
            collected.withLock { $0 = mine }
            done.signal()
        }
        Thread.sleep(forTimeInterval: 0.3)
        redis?.stop()
        Thread.sleep(forTimeInterval: 0.5)
        try redis.start()
        let resumed = ProcessTable.wait(timeout: 5) { (Int(self.redis.cli("HGET", "sb:v1:{fault}:use", "R")) ?? 0) > 0 }
        running.store(false, ordering: .relaxed)
        done.wait()
        let statuses = collected.withLock { $0 }
        print("Redis killed under load: \(statuses.count) requests, statuses \(Dictionary(grouping: statuses, by: { $0 }).mapValues(\.count))")
        XCTAssertTrue(resumed, "admissions recorded in Redis again after its restart")
        XCTAssertGreaterThan(statuses.count, 10)
        XCTAssertTrue(statuses.allSatisfy { $0 == 200 }, "no 5xx, no hung request")
        XCTAssertTrue(gateways[0].output.contains("is not answering"), gateways[0].output)
    }

    /// Slack alerts from two gateways sharing one Redis: one incident, one alert.
    func testTwoGatewaysAlertACooldownAndAnUnhealthyGroupOnce() async throws {
        let slack = try await FakeOpenAIServer()
        let yaml = """
            model_list:
              - {model_name: m, litellm_params: {model: openai/a, mock_response: "litellm.RateLimitError"}, model_info: {id: dep-a}}
              - {model_name: m, litellm_params: {model: openai/b, mock_response: "litellm.RateLimitError"}, model_info: {id: dep-b}}
            general_settings: {alerting: [slack]}
            router_settings: {redis_host: 127.0.0.1, redis_port: \(redis.port), redis_timeout_ms: 250, num_retries: 1, cooldown_time: 30}
            """
        let environment = ["SLACK_WEBHOOK_URL": "http://127.0.0.1:\(slack.port)/slack", "DEFAULT_FLUSH_INTERVAL_SECONDS": "0.1"]
        let ports = [try gateways.start(yaml, environment: environment), try gateways.start(yaml, environment: environment)]
        // Only the first gateway gets traffic; both see the cooldowns in Redis.
        for _ in 0..<3 {
            _ = try TestHTTPClient(port: ports[0]).request("POST", "/v1/chat/completions", body: Self.chat("m"))
        }
        XCTAssertEqual(redis.cli("EXISTS", "sb:v1:{dep-a}:cool"), "1")
        XCTAssertEqual(redis.cli("EXISTS", "sb:v1:{dep-b}:cool"), "1")
        func count(_ kind: String) -> Int {
            slack.requests.compactMap { $0.json?["text"]?.stringValue }.map { $0.components(separatedBy: "Alert type: `\(kind)`").count - 1 }.reduce(0, +)
        }
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline, count("cooldown_deployment") < 2 || count("no_healthy_deployments") < 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Both gateways tick every second: give each a few chances to alert again.
        try await Task.sleep(for: .seconds(3))
        XCTAssertEqual(count("cooldown_deployment"), 2, "one alert per deployment, not one per gateway")
        XCTAssertEqual(count("no_healthy_deployments"), 1, "one alert for the group, not one per gateway")
        XCTAssertEqual(redis.cli("EXISTS", "sb:v1:alert:{no_healthy_deployments:m}"), "1")
        await slack.shutdown()
    }
}
