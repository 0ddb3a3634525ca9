import CallModel
import Logging
import Synchronization
import NIOCore
import NIOPosix
import Server
import SwitchboardConfig

/// A gateway served in this process on a free loopback port, from YAML written the LiteLLM way.
///
/// ```swift
/// let gateway = try await GatewayHarness(yaml: "model_list: ...")
/// let response = try gateway.client().request("GET", "/v1/models")
/// ```
public final class GatewayHarness: Sendable {
    public let server: GatewayServer
    public let port: Int
    /// Every call record, from all event loops.
    public let records = RecordCollector()

    /// - Parameter environment: what `os.environ/` and provider defaults read (nothing else leaks in).
    ///   Without `HF_ENDPOINT` it points at a closed port, so a config's `custom_tokenizer` never
    ///   reaches the real Hugging Face hub from a test.
    public init(
        yaml: String, environment: [String: String] = [:], detailedDebug: Bool = false, idleTimeout: Double = 120,
        maxUpstreamBodyBytes: Int = 64 << 20, maxConnections: Int? = nil,
        sinks: @escaping @Sendable (GatewayConfig) -> [any CallRecordSink] = { _ in [] },
        extras: @Sendable (GatewayContext) -> GatewayExtras = { _ in GatewayExtras() }
    ) async throws {
        var environment = environment
        if environment["HF_ENDPOINT"] == nil { environment["HF_ENDPOINT"] = "http://127.0.0.1:9" }
        let config = try ConfigLoader(environment: environment, exportsEnvironmentVariables: false).load(yaml: yaml)
        var logger = Logger(label: "gateway-under-test")
        logger.logLevel = detailedDebug ? .debug : .error
        let gateway = GatewayContext(
            config: config, environment: environment, logger: logger, detailedDebug: detailedDebug, idleTimeout: idleTimeout,
            maxUpstreamBodyBytes: maxUpstreamBodyBytes, maxConnections: maxConnections)
        let records = self.records
        let more = extras(gateway)
        let extra = sinks(config) + more.sinks
        let perLoop = more.loopSinks
        server = GatewayServer(
            gateway: gateway, group: MultiThreadedEventLoopGroup.singleton, sinks: { [records] + extra + perLoop($0) },
            monitors: more.monitors)
        port = try await server.start(host: "127.0.0.1", port: 0)
    }

    /// A new client connection to the gateway.
    public func client(timeout: Int = 10) throws -> TestHTTPClient {
        try TestHTTPClient(port: port, timeout: timeout)
    }

    /// One request on a new connection.
    public func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: String? = nil) throws -> TestHTTPResponse {
        try client().request(method, path, headers: headers, body: body)
    }

    public func shutdown() async {
        try? await server.stop()
    }
}

/// Sinks and monitors made from the gateway under test (its metrics slot, its shared claims),
/// the way a worker makes its callbacks.
public struct GatewayExtras {
    /// Sinks shared by every event loop.
    public var sinks: [any CallRecordSink]
    /// Makes the sinks of one event loop (as a worker's callbacks do).
    public var loopSinks: (any EventLoop) -> [any CallRecordSink]
    public var monitors: [any GatewayMonitor]
    public init(
        sinks: [any CallRecordSink] = [], loopSinks: @escaping (any EventLoop) -> [any CallRecordSink] = { _ in [] },
        monitors: [any GatewayMonitor] = []
    ) {
        self.sinks = sinks
        self.loopSinks = loopSinks
        self.monitors = monitors
    }
}

/// A sink that keeps every record, for tests (locked: records come from every event loop).
public final class RecordCollector: CallRecordSink, Sendable {
    private let all = Mutex<[CallRecord]>([])

    public init() {}

    public func record(_ record: CallRecord) { all.withLock { $0.append(record) } }

    public var records: [CallRecord] { all.withLock { $0 } }

    /// Waits (up to `timeout` seconds) until `count` records have arrived; the records then.
    public func wait(for count: Int, timeout: Double = 10) async -> [CallRecord] {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while records.count < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return records
    }
}
