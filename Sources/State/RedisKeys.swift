/// The Redis keys of one deployment. All carry the deployment's hash tag (`{id}`), so they
/// share a Redis Cluster slot, and the version prefix `sb:v1:`, so workers of a new version that
/// changes their layout can run beside old ones during a rolling reload (they use `sb:v2:`, or
/// new names for what changed, as `busy` and `speed` replaced `lease` and `lat`).
struct RedisKeys: Sendable {
    static let prefix = "sb:v1:"
    /// Sorted set: one member per admitted request (score: Redis-clock microseconds) — the
    /// exact 60-second rpm window, for rpm up to ``EmbeddedStateStore/exactRequestLimit``.
    let requests: String
    /// Hash: field `<second>` → tokens reserved/used in that second, `<second>r` → requests;
    /// `T`, `R`: their totals over the window; `lo`: the oldest second still counted.
    let usage: String
    /// String with a TTL: present while the deployment cools down.
    let cooldown: String
    /// Counter with a 60-second TTL: failures towards `allowed_fails`.
    let failures: String
    /// Hash: worker nonce → `<in flight>:<expiry ms>`, as each worker last published it.
    let busy: String
    /// Hash: worker nonce → `<latency µs>:<TTFT µs>:<expiry ms>`, each worker's moving averages.
    let speed: String
    /// The batch script's keys for this deployment, in its order (built once: a call appends
    /// them without building an array).
    let batchKeys: [String]
    /// The loads script's keys for this deployment, in its order.
    let loadKeys: [String]

    init(id: String) {
        let base = "\(Self.prefix){\(id)}:"
        requests = base + "rpm"
        usage = base + "use"
        cooldown = base + "cool"
        failures = base + "fail"
        busy = base + "busy"
        speed = base + "speed"
        batchKeys = [requests, usage, cooldown, failures]
        loadKeys = [usage, cooldown, busy, speed]
    }
}
