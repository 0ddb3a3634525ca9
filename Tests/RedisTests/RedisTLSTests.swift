import Foundation
import Logging
import NIOCore
import RedisClient
import Synchronization
import SwitchboardTesting
import XCTest
@testable import State

/// TLS to a real `redis-server` started with `--tls-port` and certificates made by `openssl`
/// for the test: the server verified against the configured CA, a client certificate when the
/// server asks for one, and a wrong CA failing with one clear log line while the store fails
/// open, as when Redis is down.
final class RedisTLSTests: XCTestCase {
    var certificates: TestCertificates!

    override func setUp() async throws {
        certificates = try TestCertificates()
    }

    override func tearDown() async throws {
        certificates.remove()
    }

    func client(_ server: RedisServer, ca: String?, clientCertificate: Bool = false, log: CapturedLog = CapturedLog()) throws -> RedisClient {
        var c = RedisConfiguration(host: "127.0.0.1", port: server.port, password: server.password, tls: true, callTimeout: .seconds(2))
        c.tlsCACertificates = ca
        if clientCertificate {
            c.tlsCertificate = certificates.clientCertificate
            c.tlsKey = certificates.clientKey
        }
        return try RedisClient(configuration: c, logger: log.logger)
    }

    func testTLSToTheServerVerifiedByTheConfiguredCA() throws {
        let server = try RedisServer.tls(certificates, password: "pw")
        defer { server.stop() }
        let redis = try client(server, ca: certificates.caCertificate)
        XCTAssertEqual(try redis.call(["SET", "over", "tls"]), .status("OK"))
        XCTAssertEqual(server.cli("--no-auth-warning", "-a", "pw", "GET", "over"), "tls", "AUTH and the call went over TLS")
        XCTAssertEqual(try redis.call(["PING"]), .status("PONG"))
    }

    func testAClientCertificateWhenTheServerAsksForOne() throws {
        let server = try RedisServer.tls(certificates, clientCertificates: true)
        defer { server.stop() }
        let log = CapturedLog()
        let without = try client(server, ca: certificates.caCertificate, log: log)
        XCTAssertThrowsError(try without.call(["PING"]), "no client certificate: refused")
        XCTAssertTrue(log.lines.contains { $0.contains("TLS handshake failed") }, log.lines.joined(separator: "\n"))
        let with = try client(server, ca: certificates.caCertificate, clientCertificate: true)
        XCTAssertEqual(try with.call(["PING"]), .status("PONG"))
    }

    func testAWrongCAFailsWithOneClearLogLineAndTheStoreFailsOpen() async throws {
        let server = try RedisServer.tls(certificates)
        defer { server.stop() }
        let log = CapturedLog()
        let redis = try client(server, ca: certificates.otherCACertificate, log: log)
        let store = RedisStateStore(
            deployments: [DeploymentLimits(id: "a", rpm: 2, tpm: nil)], cooldown: CooldownPolicy(allowedFails: 3, cooldownSeconds: 5),
            client: redis, logger: log.logger)
        var admitted = 0
        for _ in 0..<4 {
            let admission = Admission(candidates: [0], tokens: 1, enforceLimits: true)
            var result = store.admitNow(admission)
            if result == nil { result = await withCheckedContinuation { c in store.admit(admission) { c.resume(returning: $0) } } }
            guard case .admitted(let r)? = result else { continue }
            XCTAssertEqual(r.at & RedisStateStore.redisFlag, 0, "from the per-worker fallback")
            admitted += 1
        }
        XCTAssertEqual(admitted, 2, "fail open: the worker's own rpm 2")
        XCTAssertEqual(store.answersWithoutRedis, 4)
        let tlsLines = log.lines.filter { $0.contains("TLS handshake failed") }
        XCTAssertEqual(tlsLines.count, 1, "one line, not one per call: \(log.lines)")
        XCTAssertTrue(tlsLines[0].contains("CERTIFICATE_VERIFY_FAILED") && tlsLines[0].contains("redis_ssl_ca_certs"), tlsLines[0])
        XCTAssertEqual(log.lines.filter { $0.contains("is not answering") }.count, 1, "and the store's one fail-open line: \(log.lines)")
        XCTAssertEqual(server.cli("DBSIZE"), "0", "nothing reached the server")
    }

    func testAGatewayWithRedisSSLAndACAFileEnforcesTheLimit() throws {
        let server = try RedisServer.tls(certificates)
        defer { server.stop() }
        let yaml = """
            model_list:
              - {model_name: m, litellm_params: {model: openai/m, mock_response: hi, rpm: 5}, model_info: {id: tls-rpm}}
            router_settings:
              redis_host: 127.0.0.1
              redis_port: \(server.port)
              redis_ssl: true
              redis_ssl_ca_certs: \(certificates.caCertificate)
              redis_timeout_ms: 250
            """
        let gateways = GatewayProcesses()
        defer { gateways.stopAll() }
        let port = try gateways.start(yaml)
        let answers = RedisGatewayTests.load([port], model: "m", count: 10, threads: 2)
        XCTAssertEqual(answers.filter { $0.status == 200 }.count, 5)
        XCTAssertEqual(answers.filter { $0.status == 429 }.count, 5)
        XCTAssertEqual(server.cli("ZCARD", "sb:v1:{tls-rpm}:rpm"), "5", "the window is in the TLS Redis")
        XCTAssertFalse(gateways[0].output.contains("not answering"), gateways[0].output)
    }
}
