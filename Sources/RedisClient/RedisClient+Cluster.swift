import NIOCore

/// Redis Cluster routing: each call to its slot's master, redirections followed within the
/// call's deadline, the slot map read again when it is wrong.
extension RedisClient {
    /// One try of a cluster call: to `asking` (after `ASKING`) or the slot's master; follows
    /// what the node answers instead of a reply.
    func clusterSend(
        _ args: [String], slot: Int?, on connections: RedisLoopConnections, topology: RedisClusterTopology, deadline: NIODeadline,
        moves: Int, asking: RedisNodeAddress?, completion: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void
    ) {
        let node = asking ?? RedisClusterTopology.node(for: slot, in: connections.currentMap(topology), seeds: topology.seeds)
        let connection = connections.connection(to: node)
        if asking != nil { connection.send(["ASKING"], deadline: deadline) { _ in } }  // pipelined right before the call
        connection.send(args, deadline: deadline) { [self] result in
            if case .success(.error(let message)) = result {
                if moves < Self.maximumMoves, let (movedSlot, target) = Self.redirection(message, "MOVED") {
                    counters.moved.add(1, ordering: .relaxed)
                    topology.moved(movedSlot, to: target)
                    refreshSlots()
                    clusterSend(args, slot: movedSlot, on: connections, topology: topology, deadline: deadline, moves: moves + 1, asking: nil, completion: completion)
                    return
                }
                if asking == nil, let (_, target) = Self.redirection(message, "ASK") {
                    counters.ask.add(1, ordering: .relaxed)
                    clusterSend(args, slot: slot, on: connections, topology: topology, deadline: deadline, moves: moves, asking: target, completion: completion)
                    return
                }
                if message.hasPrefix("TRYAGAIN") {
                    // The slot is being migrated and its keys are split between two nodes: again
                    // shortly, until the call's deadline.
                    counters.tryAgain.add(1, ordering: .relaxed)
                    connections.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(2)) { [self] in
                        clusterSend(args, slot: slot, on: connections, topology: topology, deadline: deadline, moves: moves, asking: nil, completion: completion)
                    }
                    return
                }
                if message.hasPrefix("CLUSTERDOWN") { refreshSlots() }
            } else if case .failure = result {
                refreshSlots()  // a node down: a failover may have given its slots to another
            }
            completion(result)
        }
    }

    /// `MOVED 3999 127.0.0.1:6381` / `ASK ...` as slot and node.
    static func redirection(_ message: String, _ kind: String) -> (Int, RedisNodeAddress)? {
        let parts = message.split(separator: " ")
        guard parts.count == 3, parts[0] == kind, let slot = Int(parts[1]), (0..<RedisClusterSlot.count).contains(slot),
              let node = RedisNodeAddress(parts[2]) else { return nil }
        return (slot, node)
    }

    /// Reads the slot map again from a known master or a startup node (at most every 100 ms,
    /// one at a time; off the callers' loops).
    func refreshSlots(force: Bool = false) {
        guard let topology, topology.beginRefresh(force: force) else { return }
        fallbackLoop.execute { [self] in askForSlots(topology.refreshCandidates[...], topology: topology) }
    }

    private func askForSlots(_ candidates: ArraySlice<RedisNodeAddress>, topology: RedisClusterTopology) {
        guard let node = candidates.first else {
            topology.refreshEnded()
            return
        }
        let deadline = NIODeadline.now() + configuration.connectTimeout + max(configuration.callTimeout, .milliseconds(100))
        connections(on: fallbackLoop).connection(to: node).send(["CLUSTER", "SLOTS"], deadline: deadline) { [self] result in
            if case .success(let reply) = result, let map = RedisSlotMap(clusterSlots: reply, asked: node) {
                topology.replace(with: map)
                topology.refreshEnded()
                return
            }
            askForSlots(candidates.dropFirst(), topology: topology)
        }
    }
}
