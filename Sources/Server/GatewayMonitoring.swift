import CallModel
import NIOCore
import RedisClient
import State

/// Feeds ``GatewayMonitor``s from periodic sweeps: nothing here runs per request.
extension LoopState {
    /// The calls of this loop open for longer than `threshold` nanoseconds (walks the open
    /// connections, as the idle sweep does).
    func callsOpen(longerThan threshold: UInt64) -> [OpenCallSnapshot] {
        let now = NIODeadline.now().uptimeNanoseconds
        var open: [OpenCallSnapshot] = []
        for handler in connections.values {
            if let call = handler.openCall(now: now), call.ageNanoseconds > threshold { open.append(call) }
        }
        return open
    }
}

extension Call {
    /// This call as a monitor sees it; `nil` once it completed.
    func snapshot(now: UInt64) -> OpenCallSnapshot? {
        guard !completed else { return nil }
        return OpenCallSnapshot(
            callID: callID, modelGroup: session?.group.name, deploymentID: routed?.deployment.id,
            ageNanoseconds: now &- receivedAt)
    }
}

extension GatewayContext {
    /// Every deployment's cooldown state, as the state store sees it.
    func deploymentHealth() -> [DeploymentHealthSnapshot] {
        let loads = store.loads(Array(metricLabels.indices))
        return zip(metricLabels, loads).map { labels, load in
            DeploymentHealthSnapshot(deploymentID: labels.id, modelGroup: labels.modelName, coolingDown: load.coolingDown)
        }
    }

    /// Claims shared by every worker: Redis when the router's state lives there, else `nil`
    /// (each worker decides alone).
    public var sharedClaims: (any SharedClaims)? {
        (store as? RedisStateStore).map { RedisSharedClaims(client: $0.client) }
    }
}

/// `SET key 1 NX PX ttl` in the router's Redis. When Redis does not answer, the claim is
/// granted: a duplicate alert is better than a missed one.
struct RedisSharedClaims: SharedClaims {
    let client: RedisClient

    func claim(_ key: String, ttlMilliseconds: Int) async -> Bool {
        await withCheckedContinuation { continuation in
            client.send(["SET", key, "1", "NX", "PX", String(max(1, ttlMilliseconds))]) { result in
                switch result {
                case .success(.null): continuation.resume(returning: false)
                case .success: continuation.resume(returning: true)
                case .failure: continuation.resume(returning: true)
                }
            }
        }
    }
}
