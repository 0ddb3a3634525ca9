#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sum of every slot of a region at one moment: what a scrape renders.
///
/// Counters and histograms add up over every slot that ever wrote (a retired or crashed
/// worker's counts stay). Gauges add up (or take the largest) over the slots whose owner is
/// alive, since a dead worker's in-flight count or window means nothing any more.
public struct MetricsSnapshot: Sendable {
    /// Values per family id, per series key, per cell.
    public private(set) var values: [[String: [UInt64]]]
    /// Live worker slots seen.
    public private(set) var liveSlots = 0
    public private(set) var droppedSeries = 0

    /// Reads every slot of `region`.
    public init(region: MetricsRegion) {
        values = Array(repeating: [:], count: MetricFamily.all.count)
        for slot in 0..<region.slotCount {
            let owner = region.owner(ofSlot: slot)
            let live = owner != 0 && (kill(owner, 0) == 0 || errno == EPERM)
            if live { liveSlots += 1 }
            droppedSeries += region.droppedSeries(slot)
            for n in 0..<region.seriesCount(slot) {
                let entry = region.entry(slot, n)
                guard entry.family < MetricFamily.all.count else { continue }
                let family = MetricFamily.all[entry.family]
                switch family.kind {
                case .counter:
                    values[family.id][entry.key, default: [0]][0] &+= entry.cell(0).load(ordering: .relaxed)
                case .histogram:
                    var cells = values[family.id][entry.key] ?? Array(repeating: 0, count: 3 + LatencyBuckets.seconds.count)
                    for c in cells.indices { cells[c] &+= entry.cell(c).load(ordering: .relaxed) }
                    values[family.id][entry.key] = cells
                case .gauge(let aggregation):
                    guard live else { continue }
                    let v = Int64(bitPattern: entry.cell(0).load(ordering: .relaxed))
                    let old = values[family.id][entry.key].map { Int64(bitPattern: $0[0]) }
                    let combined: Int64
                    switch aggregation {
                    case .sum: combined = (old ?? 0) &+ v
                    case .max: combined = Swift.max(old ?? Int64.min, v)
                    }
                    values[family.id][entry.key] = [UInt64(bitPattern: combined)]
                }
            }
        }
    }

    /// A counter's total for the series with these label values (0 when absent); for tests and
    /// tools.
    public func counter(_ name: String, _ values: [String]) -> UInt64 {
        let family = MetricFamily.named(name)
        return self.values[family.id][values.joined(separator: "\u{1F}")]?[0] ?? 0
    }
}
