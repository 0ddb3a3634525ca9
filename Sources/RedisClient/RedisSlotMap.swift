/// One Redis server's address (a cluster node, or the single server).
public struct RedisNodeAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads `host:port` (`[v6]:port` for IPv6), as in `MOVED 3999 127.0.0.1:7002`.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Which master serves each of the 16384 hash slots, as `CLUSTER SLOTS` reported it (and
/// `MOVED` replies corrected it since).
struct RedisSlotMap: Sendable {
    static let unknown = UInt16.max
    private(set) var nodes: [RedisNodeAddress] = []
    /// Slot → index into `nodes` (`unknown` when no master is known).
    private var owners = [UInt16](repeating: unknown, count: RedisClusterSlot.count)

    init() {}

    /// The master of `slot`, when known.
    func node(for slot: Int) -> RedisNodeAddress? {
        let i = owners[slot]
        return i == Self.unknown ? nil : nodes[Int(i)]
    }

    var isEmpty: Bool { nodes.isEmpty }

    /// `slot` is now served by `node` (a `MOVED` reply).
    mutating func assign(_ slot: Int, to node: RedisNodeAddress) {
        let index: Int
        if let i = nodes.firstIndex(of: node) {
            index = i
        } else {
            nodes.append(node)
            index = nodes.count - 1
        }
        owners[slot] = UInt16(index)
    }

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], replicas...], ...]`.
    /// An empty host means the node that answered (`asked`). `nil` when the reply is not one.
    init?(clusterSlots reply: RedisValue, asked: RedisNodeAddress) {
        guard case .array(let ranges) = reply, !ranges.isEmpty else { return nil }
        for range in ranges {
            let e = range.elements
            guard e.count >= 3, let start = e[0].int, let end = e[1].int, 0 <= start, start <= end, end < RedisClusterSlot.count else { return nil }
            let master = e[2].elements
            guard master.count >= 2, let host = master[0].text, let port = master[1].int else { return nil }
            let node = RedisNodeAddress(host: host.isEmpty || host == "?" ? asked.host : host, port: port)
            for slot in start...end { assign(slot, to: node) }
        }
    }
}
