import Foundation

/// A real Redis Cluster for tests: three `redis-server` masters with `cluster-enabled yes` on
/// free loopback ports (their cluster-bus ports too), joined by `redis-cli --cluster create`;
/// stopped by pid. Also moves a slot from one node to another the way `redis-cli --cluster
/// reshard` does (`SETSLOT IMPORTING/MIGRATING`, `MIGRATE`, `SETSLOT NODE`), in steps a test
/// can interleave with its calls.
///
/// ```swift
/// let cluster = try RedisCluster()
/// defer { cluster.stop() }
/// let yaml = "router_settings: {redis_startup_nodes: [{host: 127.0.0.1, port: \(cluster.nodes[0].port)}]}"
/// ```
public final class RedisCluster: @unchecked Sendable {
    /// The masters, then the replicas added by ``addReplica(of:)``.
    public private(set) var nodes: [RedisServer]
    private let directory: String

    /// - Parameter tls: certificates for a cluster that speaks only TLS (clients and the
    ///   cluster bus: `tls-cluster yes`); `nil`: plain TCP.
    public init(masters: Int = 3, tls: TestCertificates? = nil) throws {
        directory = NSTemporaryDirectory() + "switchboard-redis-cluster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var nodes: [RedisServer] = []
        for _ in 0..<masters {
            let port = freeLoopbackPort()
            let cluster = [
                "--cluster-enabled", "yes", "--cluster-config-file", "\(directory)/nodes-\(port).conf",
                "--cluster-port", String(freeLoopbackPort()), "--cluster-node-timeout", "5000", "--dir", directory, "--repl-diskless-sync-delay", "0",
            ]
            if let tls {
                nodes.append(try RedisServer(
                    port: 0,
                    extraArguments: cluster + [
                        "--tls-port", String(port), "--tls-cluster", "yes", "--tls-cert-file", tls.serverCertificate,
                        "--tls-key-file", tls.serverKey, "--tls-ca-cert-file", tls.caCertificate, "--tls-auth-clients", "no",
                    ],
                    cliArguments: ["--tls", "--cacert", tls.caCertificate], listenPort: port))
            } else {
                nodes.append(try RedisServer(port: port, extraArguments: cluster))
            }
        }
        self.nodes = nodes
        let out = nodes[0].cli(arguments: ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-yes"])
        guard ProcessTable.wait(timeout: 20, until: { nodes.allSatisfy { $0.cli("CLUSTER", "INFO").contains("cluster_state:ok") } }) else {
            stop()
            throw RedisServerError(message: "the Redis cluster did not form: \(out)")
        }
    }

    /// `host:port` of every node, for `redis_startup_nodes`.
    public var addresses: [String] { nodes.map { "127.0.0.1:\($0.port)" } }

    /// A node's cluster id.
    public func id(of node: Int) -> String {
        nodes[node].cli("CLUSTER", "MYID")
    }

    /// The node that serves `slot` now (as node 0 sees it).
    public func owner(of slot: Int) -> Int? {
        let line = nodes[0].cli("CLUSTER", "NODES").split(separator: "\n").first { line in
            line.split(separator: " ").dropFirst(8).contains { range in
                let ends = range.split(separator: "-").compactMap { Int($0) }
                return ends.count == 2 ? (ends[0]...ends[1]).contains(slot) : ends.first == slot
            }
        }
        guard let address = line?.split(separator: " ").dropFirst().first?.split(separator: "@").first else { return nil }
        return addresses.firstIndex(of: String(address))
    }

    /// Starts moving `slot` from node `from` to node `to`: `to` imports it, `from` migrates it.
    public func beginMigration(slot: Int, from: Int, to: Int) {
        nodes[to].cli("CLUSTER", "SETSLOT", String(slot), "IMPORTING", id(of: from))
        nodes[from].cli("CLUSTER", "SETSLOT", String(slot), "MIGRATING", id(of: to))
    }

    /// Moves every key of `slot` from node `from` to node `to` (one `MIGRATE ... KEYS`).
    public func migrateKeys(slot: Int, from: Int, to: Int) {
        let keys = nodes[from].cli("CLUSTER", "GETKEYSINSLOT", String(slot), "1000").split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !keys.isEmpty else { return }
        nodes[from].cli(arguments: ["MIGRATE", "127.0.0.1", String(nodes[to].port), "", "0", "5000", "KEYS"] + keys)
    }

    /// Ends the move: `slot` belongs to node `to` on every node.
    public func finishMigration(slot: Int, to: Int) {
        let target = id(of: to)
        for n in nodes { n.cli("CLUSTER", "SETSLOT", String(slot), "NODE", target) }
    }

    /// Starts one more node and makes it a replica of node `master` (`CLUSTER MEET`, then
    /// `CLUSTER REPLICATE`); returns its index once its replication link is up.
    public func addReplica(of master: Int) throws -> Int {
        let port = freeLoopbackPort()
        let bus = freeLoopbackPort()
        let replica = try RedisServer(port: port, extraArguments: [
            "--cluster-enabled", "yes", "--cluster-config-file", "\(directory)/nodes-\(port).conf",
            "--cluster-port", String(bus), "--cluster-node-timeout", "5000", "--dir", directory, "--repl-diskless-sync-delay", "0",
        ])
        nodes.append(replica)
        let masterPort = nodes[master].port
        let masterID = id(of: master)
        // `ip:port@cport` in the master's own line: MEET needs the bus port (not port + 10000 here).
        let busPort = nodes[master].cli("CLUSTER", "NODES").split(separator: "\n").first { $0.hasPrefix(masterID) }?
            .split(separator: " ").dropFirst().first?.split(separator: "@").last.map { String($0.prefix { $0.isNumber }) } ?? ""
        replica.cli("CLUSTER", "MEET", "127.0.0.1", String(masterPort), busPort)
        guard ProcessTable.wait(timeout: 20, until: { replica.cli("CLUSTER", "NODES").contains(masterID) }) else {
            throw RedisServerError(message: "the new node did not meet node \(master)")
        }
        let replicaID = replica.cli("CLUSTER", "MYID")
        guard ProcessTable.wait(timeout: 20, until: { nodes.allSatisfy { $0.cli("CLUSTER", "NODES").contains(replicaID) } }) else {
            throw RedisServerError(message: "the new node is not known to every node")
        }
        replica.cli("CLUSTER", "REPLICATE", masterID)
        guard ProcessTable.wait(timeout: 20, until: { replica.cli("INFO", "replication").contains("master_link_status:up") }) else {
            throw RedisServerError(message: "the replica of node \(master) did not sync")
        }
        return nodes.count - 1
    }

    /// Makes replica `node` take its master's slots (`CLUSTER FAILOVER TAKEOVER`: no vote, as
    /// when the master is gone) and waits until every node but `except` sees it as a master and
    /// it serves: a node that just became a master can keep its cluster state `fail` for up to
    /// the node timeout (Redis's rejoin delay), answering CLUSTERDOWN meanwhile (a clean run's
    /// failover test failed so, waiting 10 s after the old master stopped).
    public func takeOver(by node: Int, except: Int) -> Bool {
        nodes[node].cli("CLUSTER", "FAILOVER", "TAKEOVER")
        let id = id(of: node)
        return ProcessTable.wait(timeout: 30) {
            nodes.indices.filter { $0 != except }.allSatisfy { i in
                nodes[i].cli("CLUSTER", "NODES").split(separator: "\n").contains { $0.hasPrefix(id) && $0.contains("master") }
            } && nodes[node].cli("CLUSTER", "INFO").contains("cluster_state:ok")
        }
    }

    /// The number of keys node `node` holds.
    public func keyCount(on node: Int) -> Int {
        Int(nodes[node].cli("DBSIZE")) ?? -1
    }

    /// Stops every node by pid and removes the nodes' files.
    public func stop() {
        for n in nodes { n.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
