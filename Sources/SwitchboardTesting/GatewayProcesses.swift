import Foundation

/// Real `switchboard` processes a test starts from config text, each with one worker on a free
/// loopback port; `stopAll()` (in the test's `tearDown`) kills them all.
///
/// ```swift
/// let gateways = GatewayProcesses()
/// let port = try gateways.start(yaml)          // serving when it returns
/// gateways[0].output                           // what it printed
/// gateways.stopAll()
/// ```
public final class GatewayProcesses: @unchecked Sendable {
    private let lock = NSLock()
    private var started: [GatewayProcess] = []

    public init() {}

    /// The processes started so far, in order.
    public var all: [GatewayProcess] {
        lock.lock()
        defer { lock.unlock() }
        return started
    }

    public subscript(index: Int) -> GatewayProcess { all[index] }

    /// Writes `yaml` to a new temporary file and starts `switchboard --config` on it with one
    /// worker on a free loopback port, plus `environment`; returns the port once the gateway
    /// serves, or throws with what it printed.
    @discardableResult
    public func start(_ yaml: String, environment: [String: String] = [:]) throws -> Int {
        let path = ScratchFiles.path("switchboard", suffix: ".yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let process = try GatewayProcess(
            arguments: ["--config", path, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"], environment: environment)
        lock.lock()
        started.append(process)
        lock.unlock()
        guard process.waitForOutput("Switchboard serving") else {
            throw GatewayNotServing(output: process.output)
        }
        return port
    }

    /// Kills every process started (SIGKILL) and waits for each to exit.
    public func stopAll() {
        lock.lock()
        let all = started
        started = []
        lock.unlock()
        for process in all {
            process.signal(SIGKILL)
            _ = process.waitForExit(timeout: 5)
        }
    }
}

/// A gateway that did not print "Switchboard serving"; `output` is what it printed instead.
public struct GatewayNotServing: Error, CustomStringConvertible {
    public let output: String
    public var description: String { "the gateway did not start serving:\n\(output)" }
}
