import Logging
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

    /// - Parameter environment: what `os.environ/` and provider defaults read (nothing else leaks in).
    public init(yaml: String, environment: [String: String] = [:], detailedDebug: Bool = false, idleTimeout: Double = 120) async throws {
        let config = try ConfigLoader(environment: environment, exportsEnvironmentVariables: false).load(yaml: yaml)
        var logger = Logger(label: "gateway-under-test")
        logger.logLevel = detailedDebug ? .debug : .error
        let gateway = GatewayContext(
            config: config, environment: environment, logger: logger, detailedDebug: detailedDebug, idleTimeout: idleTimeout)
        server = GatewayServer(gateway: gateway, group: MultiThreadedEventLoopGroup.singleton)
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
