import Foundation
import NIOCore
import Server
import SwitchboardTesting
import XCTest

/// The supervisor and its workers as real processes, with real signals, over loopback.
final class SupervisorTests: XCTestCase {
    /// Config watching is off unless a test turns it on, so rewriting the file before a SIGHUP
    /// cannot trigger a second reload.
    static let quiet = ["SWITCHBOARD_WATCH_CONFIG_SECONDS": "0"]

    func configText(variant: String, upstream: FakeOpenAIServer) -> String {
        """
        model_list:
          - model_name: plain
            litellm_params: {model: openai/plain, mock_response: "answer \(variant)"}
          - model_name: only-\(variant)
            litellm_params: {model: openai/only, mock_response: "x"}
          - model_name: stream
            litellm_params: {model: openai/stream, api_base: "\(upstream.baseURL)", api_key: k}
        """
    }

    func writeConfig(_ text: String, to path: String? = nil) throws -> String {
        let path = path ?? ScratchFiles.path("switchboard-sup", suffix: ".yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startSupervisor(_ arguments: [String], environment: [String: String] = quiet) throws -> (GatewayProcess, Int) {
        let port = freeLoopbackPort()
        let process = try GatewayProcess(arguments: arguments + ["--host", "127.0.0.1", "--port", String(port)], environment: environment)
        XCTAssertTrue(process.waitForOutput("Switchboard serving", timeout: 60), process.output)
        return (process, port)
    }

    static func slowStream(_ request: RecordedRequest) -> FakeResponse {
        .sse(events: FakeOpenAIServer.streamEvents(model: "stream", words: ["one", " two", " three", " four"], includeUsage: false),
             delay: .milliseconds(80))
    }

    func models(port: Int) throws -> String {
        try TestHTTPClient(port: port).request("GET", "/v1/models").body
    }

    // MARK: Reloads

    func testTenRollingReloadsUnderLoadFailNothing() async throws {
        let upstream = try await FakeOpenAIServer(responder: Self.slowStream)
        let path = try writeConfig(configText(variant: "a", upstream: upstream))
        let (gateway, port) = try startSupervisor(["--config", path, "--num_workers", "2"])
        XCTAssertTrue(gateway.output.contains("with 2 workers × \(max(1, UsableCores.count / 2)) event loops"), gateway.output)
        let workersBefore = ProcessTable.children(of: gateway.process.processIdentifier)
        XCTAssertEqual(workersBefore.count, 2)

        let load = LoadLoop(port: port)
        load.start(keepAlive: 2, freshConnections: 1, streams: 2)
        XCTAssertTrue(load.waitForRequests(20), "the load runs before the first reload")
        for reload in 1...10 {
            let variant = reload % 2 == 1 ? "b" : "a"
            _ = try writeConfig(configText(variant: variant, upstream: upstream), to: path)
            let before = load.snapshot()
            gateway.signal(SIGHUP)
            XCTAssertTrue(gateway.waitForOutput("generation \(reload + 1) serving", timeout: 60), gateway.output)
            let list = try models(port: port)
            XCTAssertTrue(list.contains("only-\(variant)"), "reload \(reload): \(list)")
            XCTAssertFalse(list.contains("only-\(variant == "a" ? "b" : "a")"), "reload \(reload): \(list)")
            XCTAssertTrue(load.waitForRequests(before.requests + 10), "the load goes on after reload \(reload)")
            XCTAssertTrue(load.waitFor(\.streams, before.streams + 2), "streams go on across reload \(reload)")
        }
        XCTAssertTrue(gateway.output.contains("models added: only-b; removed: only-a; changed: plain"), gateway.output)
        let totals = load.stop()
        XCTAssertEqual(totals.failures, [], "no request failed and no connection was reset")
        print("load across ten reloads: \(totals.requests) requests, \(totals.streams) streams, \(totals.reconnects) reconnects")
        XCTAssertGreaterThanOrEqual(totals.streams, 20, "streams ran across the reloads")
        XCTAssertGreaterThan(totals.reconnects, 0, "old workers answered `connection: close` while draining")

        let supervisor = gateway.process.processIdentifier
        XCTAssertTrue(ProcessTable.wait(timeout: 30) { ProcessTable.children(of: supervisor).count == 2 },
                      "old generations drained and exited: \(ProcessTable.children(of: supervisor))")
        let workersAfter = ProcessTable.children(of: supervisor)
        XCTAssertTrue(Set(workersAfter).isDisjoint(with: workersBefore))
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        await upstream.shutdown()
    }

    func testBrokenConfigOnSIGHUPKeepsTheOldOneServing() async throws {
        let upstream = try await FakeOpenAIServer()
        let path = try writeConfig(configText(variant: "a", upstream: upstream))
        // Strict: an unset os.environ/ variable is an error too (by default it only warns).
        let (gateway, port) = try startSupervisor(["--config", path, "--num_workers", "2", "--strict_env"])
        let workers = ProcessTable.children(of: gateway.process.processIdentifier)

        _ = try writeConfig("model_list:\n  - model_name: b\n    litellm_params: {model: openai/b, rpm: fast}\n", to: path)
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("reload rejected"), gateway.output)
        XCTAssertTrue(gateway.output.contains(#"model_list[0].litellm_params.rpm: expected integer, got "fast""#), gateway.output)
        XCTAssertTrue(gateway.output.contains("generation 1 keeps serving"), gateway.output)

        _ = try writeConfig("model_list:\n  - model_name: b\n    litellm_params: {model: openai/b, api_key: os.environ/SB_SURELY_UNSET_VARIABLE}\n", to: path)
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("SB_SURELY_UNSET_VARIABLE"), gateway.output)

        XCTAssertTrue(try models(port: port).contains("only-a"))
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"plain","messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.body.contains("answer a"), r.body)
        XCTAssertEqual(ProcessTable.children(of: gateway.process.processIdentifier), workers, "no worker was touched")
        XCTAssertFalse(gateway.output.contains("generation 2"), gateway.output)
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        await upstream.shutdown()
    }

    func testConfigFileChangeBehindSwappedSymlinkReloads() async throws {
        // A Kubernetes ConfigMap volume: config.yaml -> ..data/config.yaml, ..data -> a version dir.
        let upstream = try await FakeOpenAIServer()
        let dir = ScratchFiles.path("switchboard-cm")
        let fm = FileManager.default
        for version in ["v1", "v2"] { try fm.createDirectory(atPath: "\(dir)/\(version)", withIntermediateDirectories: true) }
        _ = try writeConfig(configText(variant: "a", upstream: upstream), to: "\(dir)/v1/config.yaml")
        _ = try writeConfig(configText(variant: "b", upstream: upstream), to: "\(dir)/v2/config.yaml")
        try fm.createSymbolicLink(atPath: "\(dir)/..data", withDestinationPath: "v1")
        try fm.createSymbolicLink(atPath: "\(dir)/config.yaml", withDestinationPath: "..data/config.yaml")

        let (gateway, port) = try startSupervisor(["--config", "\(dir)/config.yaml", "--num_workers", "1"],
                                                  environment: ["SWITCHBOARD_WATCH_CONFIG_SECONDS": "0.1"])
        XCTAssertTrue(try models(port: port).contains("only-a"))
        try fm.createSymbolicLink(atPath: "\(dir)/..data_tmp", withDestinationPath: "v2")
        XCTAssertEqual(rename("\(dir)/..data_tmp", "\(dir)/..data"), 0)
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving"), gateway.output)
        XCTAssertTrue(gateway.output.contains("reload (config file change)"), gateway.output)
        XCTAssertTrue(try models(port: port).contains("only-b"))
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        await upstream.shutdown()
    }

    // MARK: Crashes and stops

    func testKilledWorkerIsReplaced() async throws {
        let upstream = try await FakeOpenAIServer()
        let path = try writeConfig(configText(variant: "a", upstream: upstream))
        let (gateway, port) = try startSupervisor(["--config", path, "--num_workers", "2"])
        let supervisor = gateway.process.processIdentifier
        let workers = ProcessTable.children(of: supervisor)
        XCTAssertEqual(workers.count, 2)
        let load = LoadLoop(port: port)
        load.start(keepAlive: 0, freshConnections: 2, streams: 0)
        XCTAssertTrue(load.waitForRequests(20))

        kill(workers[0], SIGKILL)
        XCTAssertTrue(gateway.waitForOutput("died: killed by SIGKILL"), gateway.output)
        XCTAssertTrue(ProcessTable.wait(timeout: 30) {
            let now = ProcessTable.children(of: supervisor)
            return now.count == 2 && !now.contains(workers[0]) && now.contains(workers[1])
        }, "a new worker replaced the killed one: \(ProcessTable.children(of: supervisor))")
        let afterReplacement = load.snapshot().requests
        XCTAssertTrue(load.waitForRequests(afterReplacement + 20))
        let totals = load.stop()
        // Only requests on the killed worker's connections may fail; fresh connections queued in the
        // shared listener are taken by the other worker, so in practice nothing fails.
        XCTAssertLessThanOrEqual(totals.failures.count, 2, "\(totals.failures)")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        await upstream.shutdown()
    }

    func testSIGTERMFinishesStreamsAndLeavesNoOrphans() async throws {
        let upstream = try await FakeOpenAIServer(responder: Self.slowStream)
        let path = try writeConfig(configText(variant: "a", upstream: upstream))
        let (gateway, port) = try startSupervisor(["--config", path, "--num_workers", "2"])
        let workers = ProcessTable.children(of: gateway.process.processIdentifier)
        XCTAssertEqual(workers.count, 2)
        let clients = try (0..<4).map { _ in try TestHTTPClient(port: port) }
        for client in clients {
            try client.sendRequest("POST", "/v1/chat/completions", body: #"{"model":"stream","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
            XCTAssertEqual(try client.readHead().status, 200)
        }
        gateway.signal(SIGTERM)
        for client in clients {
            var body = ""
            while let chunk = try client.readChunk() { body += chunk }
            XCTAssertTrue(body.hasSuffix("data: [DONE]\n\n"), "the stream in flight completes: \(body)")
        }
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        XCTAssertTrue(gateway.output.contains("Switchboard stopped"), gateway.output)
        for pid in workers { XCTAssertFalse(ProcessTable.isAlive(pid), "worker \(pid) outlived the supervisor") }
        XCTAssertThrowsError(try TestHTTPClient(port: port), "the port is closed")
        await upstream.shutdown()
    }

    func testWorkersExitWhenTheSupervisorIsKilled() throws {
        let path = try writeConfig("model_list:\n  - model_name: m\n    litellm_params: {model: openai/m, mock_response: hi}\n")
        let (gateway, _) = try startSupervisor(["--config", path, "--num_workers", "2"])
        let workers = ProcessTable.children(of: gateway.process.processIdentifier)
        XCTAssertEqual(workers.count, 2)
        gateway.signal(SIGKILL)
        XCTAssertNotNil(gateway.waitForExit())
        XCTAssertTrue(ProcessTable.wait(timeout: 20) { workers.allSatisfy { !ProcessTable.isAlive($0) } },
                      "workers \(workers.filter(ProcessTable.isAlive)) are orphans")
    }

    func testWorkerAloneBindsItsOwnPort() throws {
        let path = try writeConfig("model_list:\n  - model_name: alone\n    litellm_params: {model: openai/m, mock_response: hi}\n")
        let port = freeLoopbackPort()
        let worker = try GatewayProcess(arguments: ["worker", "--config", path, "--host", "127.0.0.1", "--port", String(port), "--event_loops", "1"])
        XCTAssertTrue(worker.waitForOutput("Switchboard serving"), worker.output)
        XCTAssertTrue(worker.output.contains("with 1 event loops"), worker.output)
        XCTAssertTrue(try models(port: port).contains("alone"))
        XCTAssertEqual(ProcessTable.children(of: worker.process.processIdentifier), [])
        worker.signal(SIGTERM)
        XCTAssertEqual(worker.waitForExit(), 0, worker.output)
    }
}

/// Clients requesting in a loop on their own threads: keep-alive connections (reconnecting when
/// an answer says `connection: close`), a fresh connection per request, and streams. Every error
/// or non-200 answer is recorded.
final class LoadLoop: @unchecked Sendable {
    struct Totals {
        var requests = 0
        var streams = 0
        var reconnects = 0
        var failures: [String] = []
    }

    let port: Int
    private let lock = NSCondition()
    private var totals = Totals()
    private var running = true
    private var threads = 0

    init(port: Int) { self.port = port }

    func start(keepAlive: Int, freshConnections: Int, streams: Int) {
        for _ in 0..<keepAlive { spawn { self.keepAliveLoop(stream: false) } }
        for _ in 0..<streams { spawn { self.keepAliveLoop(stream: true) } }
        for _ in 0..<freshConnections { spawn { self.freshLoop() } }
    }

    private func spawn(_ body: @escaping @Sendable () -> Void) {
        lock.lock(); threads += 1; lock.unlock()
        Thread.detachNewThread {
            body()
            self.lock.lock(); self.threads -= 1; self.lock.broadcast(); self.lock.unlock()
        }
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    private func record(_ update: (inout Totals) -> Void) {
        lock.lock(); update(&totals); lock.broadcast(); lock.unlock()
    }

    private static let plain = #"{"model":"plain","messages":[{"role":"user","content":"hi"}]}"#
    private static let stream = #"{"model":"stream","stream":true,"messages":[{"role":"user","content":"hi"}]}"#

    private func keepAliveLoop(stream: Bool) {
        var client: TestHTTPClient?
        while isRunning {
            do {
                let connection = try client ?? TestHTTPClient(port: port, timeout: 30)
                client = connection
                let r = try connection.request("POST", "/v1/chat/completions", body: stream ? Self.stream : Self.plain)
                if r.status != 200 {
                    record { $0.failures.append("status \(r.status): \(r.body)") }
                } else if stream && !r.body.hasSuffix("data: [DONE]\n\n") {
                    record { $0.failures.append("stream cut: \(r.body)") }
                } else {
                    record { $0.requests += 1; if stream { $0.streams += 1 } }
                }
                if r.header("connection")?.lowercased() == "close" {
                    client = nil
                    record { $0.reconnects += 1 }
                }
            } catch {
                record { $0.failures.append("\(stream ? "stream" : "keep-alive"): \(error)") }
                client = nil
            }
        }
    }

    private func freshLoop() {
        while isRunning {
            do {
                let r = try TestHTTPClient(port: port, timeout: 30).request(
                    "POST", "/v1/chat/completions", headers: [("Connection", "close")], body: Self.plain)
                if r.status == 200 { record { $0.requests += 1 } } else { record { $0.failures.append("status \(r.status)") } }
            } catch {
                record { $0.failures.append("fresh connection: \(error)") }
            }
        }
    }

    func snapshot() -> Totals { lock.lock(); defer { lock.unlock() }; return totals }

    /// Waits (up to 60 s) until `count` requests have succeeded.
    func waitForRequests(_ count: Int) -> Bool { waitFor(\.requests, count) }

    /// Waits (up to 60 s) until a total reaches `count`.
    func waitFor(_ total: KeyPath<Totals, Int>, _ count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        lock.lock(); defer { lock.unlock() }
        while totals[keyPath: total] < count {
            if !lock.wait(until: deadline) { return totals[keyPath: total] >= count }
        }
        return true
    }

    /// Stops the loops, waits for their last requests, and returns the totals.
    func stop() -> Totals {
        lock.lock()
        running = false
        let deadline = Date().addingTimeInterval(60)
        while threads > 0 && lock.wait(until: deadline) {}
        defer { lock.unlock() }
        return totals
    }
}
