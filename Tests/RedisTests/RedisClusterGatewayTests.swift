import Foundation
import SwitchboardTesting
import XCTest

/// Real `switchboard` processes configured with a real Redis Cluster (`redis_startup_nodes`,
/// LiteLLM's key): one rpm limit for both, exactly.
final class RedisClusterGatewayTests: XCTestCase {
    var cluster: RedisCluster!
    let gateways = GatewayProcesses()

    override func setUp() async throws {
        cluster = try RedisCluster()
    }

    override func tearDown() async throws {
        gateways.stopAll()
        cluster?.stop()
    }

    func testTwoGatewaysOnARedisClusterShareOneRPMLimitExactly() throws {
        // Each gateway knows one startup node (not the same one): the rest comes from the slot map.
        func yaml(seed: Int) -> String {
            """
            model_list:
              - {model_name: m, litellm_params: {model: openai/m, mock_response: hi, rpm: 60}, model_info: {id: cluster-rpm}}
              - {model_name: m, litellm_params: {model: openai/m, mock_response: hi, rpm: 30}, model_info: {id: cluster-rpm-2}}
            router_settings:
              redis_startup_nodes: [{host: 127.0.0.1, port: \(cluster.nodes[seed].port)}]
              redis_timeout_ms: 250
            """
        }
        let ports = [try gateways.start(yaml(seed: 0)), try gateways.start(yaml(seed: 2))]
        let answers = RedisGatewayTests.load(ports, model: "m", count: 180)
        let admitted = answers.filter { $0.status == 200 }.count
        print("rpm 60 + 30 on a Redis Cluster, offered 180 across 2 gateways: \(admitted) admitted, \(answers.filter { $0.status == 429 }.count) refused with 429")
        XCTAssertTrue((89...90).contains(admitted), "within [0.99 R, R]: \(admitted)")
        XCTAssertEqual(answers.filter { $0.status != 200 && $0.status != 429 }.count, 0)
        let windows = ["cluster-rpm", "cluster-rpm-2"].map { id in
            cluster.nodes.map { Int($0.cli("-c", "ZCARD", "sb:v1:{\(id)}:rpm")) ?? 0 }.max() ?? 0
        }
        XCTAssertEqual(windows, [60, 30], "each deployment's window, on its slot's master")
        for g in gateways.all {
            XCTAssertFalse(g.output.contains("not answering"), "no fall back to per-worker limits: \(g.output)")
        }
    }
}
