/// One metric family the gateway exports: its Prometheus name, type, label names and how its
/// cells read. The catalog (``MetricFamily/all``) is fixed at build time; a family's id is its
/// index there, stored with each series in shared memory.
public struct MetricFamily: Sendable {
    public enum Kind: Sendable {
        /// Monotonic; cell 0 holds the value in units of `scale`.
        case counter
        /// Cell 0 holds an `Int64`; a scrape adds (`sum`) or takes the largest (`max`) over the
        /// live workers.
        case gauge(GaugeAggregation)
        /// Cell 0 count, cell 1 sum (in units of `scale`), then one cell per bucket.
        case histogram
    }

    public enum GaugeAggregation: Sendable { case sum, max }

    public let id: Int
    public let name: String
    public let help: String
    public let kind: Kind
    /// Label names, in the order of the values in a series key.
    public let labels: [String]
    /// A stored integer times `scale` is the exported value (1e-9 for nanoseconds → seconds).
    public let scale: Double

    /// `1 / scale`, rounded: dividing by it renders `703000000` ns as exactly `0.703`.
    var divisor: Double { (1 / scale).rounded() }
}

/// Label values that are the same for every series of the gateway today (no virtual keys,
/// teams or end users yet), appended at render time so LiteLLM dashboards' selectors match.
public enum ConstantLabels {
    public static let all: [(String, String)] = [
        ("api_key_alias", "None"), ("end_user", "None"), ("team", "None"), ("team_alias", "None"),
        ("user", "None"), ("user_email", "None"),
    ]
}

/// The bucket bounds of every latency histogram, in seconds: LiteLLM's `LATENCY_BUCKETS`.
public enum LatencyBuckets {
    public static let seconds: [Double] = [
        0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5,
        7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0,
    ]
    /// The bounds in nanoseconds.
    public static let nanoseconds: [UInt64] = seconds.map { UInt64($0 * 1e9) }

    /// The bucket (cell offset from 2) of a value: the first bound at or above it, or the `+Inf`
    /// bucket (`seconds.count`).
    @inline(__always)
    public static func bucket(nanoseconds value: UInt64) -> Int {
        var low = 0, high = nanoseconds.count
        while low < high {
            let mid = (low + high) >> 1
            if nanoseconds[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
