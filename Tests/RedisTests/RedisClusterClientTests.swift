import Logging
import NIOCore
import NIOPosix
import RedisClient
import SwitchboardTesting
import XCTest

/// The client against a real three-master Redis Cluster: slots, routing to each slot's master
/// with one connection per node, `MOVED` and `ASK` during a slot migration, scripts per node,
/// and no call with keys of several slots.
final class RedisClusterClientTests: XCTestCase {
    var cluster: RedisCluster!

    override func setUp() async throws {
        cluster = try RedisCluster()
    }

    override func tearDown() async throws {
        cluster?.stop()
    }

    func client(timeout: TimeAmount = .seconds(2)) throws -> RedisClient {
        var c = RedisConfiguration(callTimeout: timeout)
        c.clusterNodes = [RedisNodeAddress(host: "127.0.0.1", port: cluster.nodes[0].port)]
        return try RedisClient(configuration: c, logger: Logger(label: "redis-cluster-test"))
    }

    func testSlotsAreTheClustersForKeysAndHashTags() {
        XCTAssertEqual(RedisClusterSlot.of(key: "123456789"), 0x31C3 & 0x3FFF, "CRC16/XMODEM check value")
        for key in ["foo", "somekey", "sb:v1:{gpt-4o-eu}:rpm", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "é{ü}"] {
            XCTAssertEqual(String(RedisClusterSlot.of(key: key)), cluster.nodes[0].cli("CLUSTER", "KEYSLOT", key), key)
        }
        XCTAssertEqual(RedisClusterSlot.of(key: "sb:v1:{d}:rpm"), RedisClusterSlot.of(key: "sb:v1:{d}:lease"), "one deployment, one slot")
    }

    func testCommandsGoToTheirSlotsMasterOverOneConnectionPerNode() throws {
        let redis = try client()
        for i in 0..<300 {
            XCTAssertEqual(try redis.call(["SET", "key\(i)", "v\(i)"], key: "key\(i)"), .status("OK"))
        }
        for i in stride(from: 0, to: 300, by: 7) {
            XCTAssertEqual(try redis.call(["GET", "key\(i)"], key: "key\(i)"), .string("v\(i)"))
        }
        let counts = (0..<3).map { cluster.keyCount(on: $0) }
        XCTAssertEqual(counts.reduce(0, +), 300)
        XCTAssertTrue(counts.allSatisfy { $0 > 50 }, "spread over the masters: \(counts)")
        for (n, node) in cluster.nodes.enumerated() {
            let clients = node.cli("CLIENT", "LIST").split(separator: "\n").filter { !$0.contains("cmd=client") }
            XCTAssertEqual(clients.count, 1, "one connection to node \(n) from the one loop used: \(clients)")
        }
    }

    func testASlotMigrationIsFollowedThroughAskAndMoved() throws {
        let redis = try client()
        let key = "{migrating}:counter"
        let slot = RedisClusterSlot.of(key: key)
        XCTAssertEqual(try redis.call(["SET", key, "10"], key: key), .status("OK"))
        let from = try XCTUnwrap(cluster.owner(of: slot))
        let to = (from + 1) % 3
        cluster.beginMigration(slot: slot, from: from, to: to)
        XCTAssertEqual(try redis.call(["INCR", key], key: key), .integer(11), "still served where the key is")
        cluster.migrateKeys(slot: slot, from: from, to: to)
        XCTAssertEqual(try redis.call(["INCR", key], key: key), .integer(12), "ASK: ASKING, then the call, on the importing node")
        XCTAssertEqual(try redis.call(["SET", "{migrating}:new", "x"], key: "{migrating}:new"), .status("OK"), "a new key goes to the importing node")
        XCTAssertGreaterThanOrEqual(redis.redirections.ask, 2)
        XCTAssertEqual(cluster.nodes[to].cli("CLUSTER", "COUNTKEYSINSLOT", String(slot)), "2", "both keys on the importing node")
        XCTAssertEqual(cluster.nodes[from].cli("CLUSTER", "COUNTKEYSINSLOT", String(slot)), "0")
        cluster.finishMigration(slot: slot, to: to)
        let movedBefore = redis.redirections.moved
        XCTAssertEqual(try redis.call(["INCR", key], key: key), .integer(13), "MOVED: the map is corrected")
        XCTAssertEqual(redis.redirections.moved, movedBefore + 1)
        XCTAssertEqual(try redis.call(["INCR", key], key: key), .integer(14))
        XCTAssertEqual(redis.redirections.moved, movedBefore + 1, "no second MOVED: the slot's new master is known")
    }

    func testScriptsAreLoadedOnEveryNodeAndNeverSentAcrossSlots() throws {
        let redis = try client()
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) + redis.call('INCRBY', KEYS[2], ARGV[1])")
        redis.preload([script])
        for i in 0..<30 {
            let keys = ["{s\(i)}:a", "{s\(i)}:b"]
            XCTAssertEqual(try redis.eval(script, keys: keys, args: ["2"]), .integer(4))
        }
        for node in cluster.nodes {
            XCTAssertEqual(node.cli("SCRIPT", "EXISTS", script.sha1), "1", "loaded when the connection to the node was made")
            node.cli("SCRIPT", "FLUSH")
        }
        XCTAssertEqual(try redis.eval(script, keys: ["{s0}:a", "{s0}:b"], args: ["1"]), .integer(6), "NOSCRIPT: loaded again on that node")
        XCTAssertThrowsError(try redis.eval(script, keys: ["{x}:a", "{y}:b"], args: ["1"])) { error in
            XCTAssertEqual(error as? RedisError, .crossSlot(["{x}:a", "{y}:b"]))
        }
    }
}

extension RedisClient {
    /// One call about `key`, waited for.
    func call(_ args: [String], key: String) throws -> RedisValue {
        try wait { done in send(args, key: key, completion: done) }
    }
}

/// A Redis Cluster that speaks only TLS: the slot map and every node's connection over TLS,
/// verified against the test CA.
final class RedisClusterTLSTests: XCTestCase {
    func testAClusterOverTLS() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let cluster = try RedisCluster(tls: certificates)
        defer { cluster.stop() }
        var c = RedisConfiguration(tls: true, callTimeout: .seconds(2))
        c.tlsCACertificates = certificates.caCertificate
        c.clusterNodes = [RedisNodeAddress(host: "127.0.0.1", port: cluster.nodes[2].port)]
        let redis = try RedisClient(configuration: c, logger: Logger(label: "redis-cluster-tls-test"))
        for i in 0..<60 {
            XCTAssertEqual(try redis.call(["SET", "t\(i)", "\(i)"], key: "t\(i)"), .status("OK"))
        }
        let counts = (0..<3).map { cluster.keyCount(on: $0) }
        XCTAssertEqual(counts.reduce(0, +), 60)
        XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "every master over TLS: \(counts)")
    }
}

/// A master that fails after its replica took over: the client finds the new master.
final class RedisClusterFailoverTests: XCTestCase {
    func testAFailedMastersSlotsAreFoundOnItsPromotedReplica() throws {
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        var c = RedisConfiguration(callTimeout: .seconds(1))
        c.clusterNodes = [RedisNodeAddress(host: "127.0.0.1", port: cluster.nodes[0].port)]
        let redis = try RedisClient(configuration: c, logger: Logger(label: "redis-failover-test"))
        let key = "{failover}:k"
        let master = try XCTUnwrap(cluster.owner(of: RedisClusterSlot.of(key: key)))
        XCTAssertEqual(try redis.call(["SET", key, "before"], key: key), .status("OK"))
        let replica = try cluster.addReplica(of: master)
        XCTAssertTrue(ProcessTable.wait(timeout: 10) { cluster.nodes[replica].cli("DBSIZE") == "1" }, "the replica has the key")
        XCTAssertTrue(cluster.takeOver(by: replica, except: master), "the replica took over, and the other masters know")
        cluster.nodes[master].stop()
        var failures = 0
        let found = ProcessTable.wait(timeout: 20) {
            do {
                return try redis.call(["SET", key, "after"], key: key) == .status("OK")
            } catch {
                failures += 1
                return false
            }
        }
        XCTAssertTrue(found, "the slot map was read again and the call went to the new master")
        print("failover: \(failures) calls failed before the new master was used")
        XCTAssertLessThanOrEqual(failures, 10, "a failed call makes the client read the map again (not a timer)")
        XCTAssertEqual(cluster.nodes[replica].cli("GET", key), "after")
    }
}
