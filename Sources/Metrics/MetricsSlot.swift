import Atomics
import Synchronization

/// A worker's slot of the shared region: the only writer of its series. Finding or adding a
/// series takes a lock (once per new label combination; callers cache the ``Series`` handle);
/// recording into a series is a relaxed atomic add, no lock.
///
/// ```swift
/// let slot = MetricsSlot(region: region, index: 0, owner: getpid())
/// let series = slot.series(MetricFamily.named("litellm_requests_metric"), ["gpt-4o", ...])
/// series.add(1)
/// ```
public final class MetricsSlot: Sendable {
    public let region: MetricsRegion
    public let index: Int
    private let known: Mutex<[String: Int]>

    /// Takes slot `index`: adopts the series a previous owner left there (their counts carry
    /// on) and zeroes their gauges, which described that owner only.
    public init(region: MetricsRegion, index: Int, owner: Int32) {
        self.region = region
        self.index = index
        var known: [String: Int] = [:]
        for n in 0..<region.seriesCount(index) {
            let entry = region.entry(index, n)
            known[Self.lookupKey(entry.family, entry.key)] = n
            if entry.family < MetricFamily.all.count,
               case .gauge = MetricFamily.all[entry.family].kind {
                entry.cell(0).store(0, ordering: .relaxed)
            }
        }
        self.known = Mutex(known)
        region.setOwner(ofSlot: index, owner)
    }

    private static func lookupKey(_ family: Int, _ key: String) -> String { "\(family)\u{1F}\(key)" }

    /// The series of `family` with `values` (one per label name), added when new. `nil` when
    /// the slot is full (the drop is counted).
    public func series(_ family: MetricFamily, _ values: [String]) -> Series? {
        var bytes: [UInt8] = []
        for (n, v) in values.enumerated() {
            if n > 0 { bytes.append(SeriesLayout.separator) }
            bytes += v.utf8.map { $0 == SeriesLayout.separator ? 0x20 : $0 }
        }
        if bytes.count > SeriesLayout.keyBytes { bytes.removeLast(bytes.count - SeriesLayout.keyBytes) }
        let key = String(decoding: bytes, as: UTF8.self)
        let region = self.region, slot = index
        let found: Int? = known.withLock { known in
            let lookup = Self.lookupKey(family.id, key)
            if let n = known[lookup] { return n }
            let n = region.seriesCount(slot)
            guard n < region.seriesPerSlot else {
                region.slotWord(slot, SlotWord.dropped).wrappingIncrement(ordering: .relaxed)
                return nil
            }
            region.entry(slot, n).initialize(family: family.id, key: Array(key.utf8))
            region.slotWord(slot, SlotWord.seriesCount).store(UInt64(n + 1), ordering: .releasing)
            known[lookup] = n
            return n
        }
        return found.map { Series(entry: region.entry(slot, $0)) }
    }
}

/// A handle on one series in shared memory; cheap to copy (no reference: the request path
/// copies them), safe from any thread. It is valid while its ``MetricsSlot`` (which maps the
/// region) lives: whoever may use it longer keeps the slot.
public struct Series: @unchecked Sendable {
    let entry: SeriesEntry

    /// Adds to a counter (cell 0).
    @inline(__always)
    public func add(_ value: UInt64) {
        entry.cell(0).wrappingIncrement(by: value, ordering: .relaxed)
    }

    /// Sets a gauge (cell 0).
    @inline(__always)
    public func set(_ value: Int64) {
        entry.cell(0).store(UInt64(bitPattern: value), ordering: .relaxed)
    }

    /// Records one histogram observation in nanoseconds (count, sum, bucket: three atomic adds).
    @inline(__always)
    public func observe(nanoseconds value: UInt64) {
        entry.cell(0).wrappingIncrement(ordering: .relaxed)
        entry.cell(1).wrappingIncrement(by: value, ordering: .relaxed)
        entry.cell(2 + LatencyBuckets.bucket(nanoseconds: value)).wrappingIncrement(ordering: .relaxed)
    }
}
