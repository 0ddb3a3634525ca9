/// Renders a ``MetricsSnapshot`` in the Prometheus text exposition format (version 0.0.4):
/// `# HELP`, `# TYPE`, counters with the `_total` suffix, histograms as cumulative `_bucket`
/// series with `le`, then `_sum` and `_count`.
///
/// swift-prometheus keeps its values in its own in-process registry objects, which cannot live
/// in memory shared between processes; its renderer only renders that registry. So the gateway
/// renders the summed shared slots itself (this file): the format is small and fixed.
public enum PrometheusText {
    /// The `content-type` of the answer.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = ""
        out.reserveCapacity(16 * 1024)
        for family in MetricFamily.all {
            var series = snapshot.values[family.id]
            if family.name == "litellm_workers" { series = ["": [UInt64(snapshot.liveSlots)]] }
            if family.name == "litellm_metrics_dropped_series_metric" { series = ["": [UInt64(snapshot.droppedSeries)]] }
            if series.isEmpty { continue }
            let type: String
            switch family.kind {
            case .counter: type = "counter"
            case .gauge: type = "gauge"
            case .histogram: type = "histogram"
            }
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(type)\n"
            for key in series.keys.sorted() {
                let cells = series[key]!
                let labels = labelText(family, key)
                switch family.kind {
                case .counter:
                    out += "\(family.name)_total\(braced(labels)) \(number(Double(cells[0]) / family.divisor, integer: family.scale == 1))\n"
                case .gauge:
                    out += "\(family.name)\(braced(labels)) \(Int64(bitPattern: cells[0]))\n"
                case .histogram:
                    var cumulative: UInt64 = 0
                    let prefix = labels.isEmpty ? "" : labels + ","
                    for (n, bound) in LatencyBuckets.seconds.enumerated() {
                        cumulative &+= cells[2 + n]
                        out += "\(family.name)_bucket{\(prefix)le=\"\(number(bound, integer: false))\"} \(cumulative)\n"
                    }
                    cumulative &+= cells[2 + LatencyBuckets.seconds.count]
                    out += "\(family.name)_bucket{\(prefix)le=\"+Inf\"} \(cumulative)\n"
                    out += "\(family.name)_sum\(braced(labels)) \(number(Double(cells[1]) / family.divisor, integer: false))\n"
                    out += "\(family.name)_count\(braced(labels)) \(cells[0])\n"
                }
            }
        }
        return out
    }

    private static func braced(_ labels: String) -> String { labels.isEmpty ? "" : "{\(labels)}" }

    /// `name="value",...` of a series: the stored values, then the constant labels.
    static func labelText(_ family: MetricFamily, _ key: String) -> String {
        guard !family.labels.isEmpty else { return "" }
        let values = key.split(separator: "\u{1F}", omittingEmptySubsequences: false)
        var parts: [String] = []
        for (n, name) in family.labels.enumerated() {
            parts.append("\(name)=\"\(escape(n < values.count ? String(values[n]) : ""))\"")
        }
        if case .gauge = family.kind {} else {
            for (name, value) in ConstantLabels.all where !family.labels.contains(name) {
                parts.append("\(name)=\"\(value)\"")
            }
        }
        return parts.joined(separator: ",")
    }

    /// Escapes a label value: backslash, quote and newline.
    public static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ value: Double, integer: Bool) -> String {
        if integer, abs(value) < 9e15 { return String(Int64(value)) }
        return String(value)
    }
}
