import Atomics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The gateway's metrics in memory shared by the supervisor and every worker process, so that
/// one scrape of `/metrics` on any worker shows the whole gateway.
///
/// The supervisor creates one region at start (an unlinked file in `/dev/shm`, else `/tmp`)
/// and every worker inherits its descriptor (6). The region is split into ``slots``: each live
/// worker owns one slot and is its only writer; a scrape sums every slot. Slots outlive their
/// workers (the supervisor holds the mapping), so a crashed or retired worker's counts stay in
/// the sums and a counter never goes backwards; a new worker given that slot continues its
/// series where the old one stopped.
///
/// Layout (all 8-byte words): a 64-word region header, then `slotCount` slots, each a 8-word
/// slot header followed by `seriesPerSlot` fixed-size series entries (see ``SeriesLayout``).
///
/// ```swift
/// let region = try MetricsRegion.create(slots: 8, seriesPerSlot: 4096)   // supervisor
/// let region = try MetricsRegion.attach(descriptor: 6)                    // worker
/// ```
public final class MetricsRegion: @unchecked Sendable {
    /// The inherited descriptor number in workers.
    public static let workerDescriptor: Int32 = 6
    static let magic: UInt64 = 0x5357_4254_4D45_5431  // "SWBTMET1"
    static let headerWords = 64
    static let slotHeaderWords = 8

    public let descriptor: Int32
    let base: UnsafeMutableRawPointer
    let byteCount: Int
    public let slotCount: Int
    public let seriesPerSlot: Int

    private init(descriptor: Int32, base: UnsafeMutableRawPointer, byteCount: Int, slots: Int, seriesPerSlot: Int) {
        self.descriptor = descriptor
        self.base = base
        self.byteCount = byteCount
        slotCount = slots
        self.seriesPerSlot = seriesPerSlot
    }

    static func size(slots: Int, seriesPerSlot: Int) -> Int {
        8 * headerWords + slots * slotBytes(seriesPerSlot)
    }

    static func slotBytes(_ seriesPerSlot: Int) -> Int { 8 * slotHeaderWords + seriesPerSlot * SeriesLayout.entryBytes }

    /// Creates a zeroed region (pages are allocated only when written). The descriptor is
    /// close-on-exec; hand it to children explicitly.
    public static func create(slots: Int, seriesPerSlot: Int = 4096) throws(MetricsError) -> MetricsRegion {
        var fd: Int32 = -1
        for directory in ["/dev/shm", "/tmp"] {
            var template = Array((directory + "/switchboard-metrics-XXXXXX").utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 {
                template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
                break
            }
        }
        guard fd >= 0 else { throw MetricsError("cannot create the shared metrics region: \(errnoText())") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let bytes = size(slots: slots, seriesPerSlot: seriesPerSlot)
        guard ftruncate(fd, off_t(bytes)) == 0 else {
            let reason = errnoText()
            close(fd)
            throw MetricsError("cannot size the shared metrics region (\(bytes) bytes): \(reason)")
        }
        let region = try map(fd, bytes: bytes, slots: slots, seriesPerSlot: seriesPerSlot)
        let words = region.base.assumingMemoryBound(to: UInt64.self)
        words[1] = UInt64(slots)
        words[2] = UInt64(seriesPerSlot)
        words[0] = magic
        return region
    }

    /// Maps a region created by ``create(slots:seriesPerSlot:)`` (in a worker, through the
    /// inherited descriptor).
    public static func attach(descriptor fd: Int32) throws(MetricsError) -> MetricsRegion {
        var header = [UInt64](repeating: 0, count: 3)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 24, 0) }
        guard n == 24, header[0] == magic else { throw MetricsError("descriptor \(fd) is not a metrics region") }
        let slots = Int(header[1]), series = Int(header[2])
        return try map(fd, bytes: size(slots: slots, seriesPerSlot: series), slots: slots, seriesPerSlot: series)
    }

    private static func map(_ fd: Int32, bytes: Int, slots: Int, seriesPerSlot: Int) throws(MetricsError) -> MetricsRegion {
        let mapped: UnsafeMutableRawPointer? = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p = mapped, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw MetricsError("cannot map the shared metrics region: \(errnoText())")
        }
        return MetricsRegion(descriptor: fd, base: p, byteCount: bytes, slots: slots, seriesPerSlot: seriesPerSlot)
    }

    deinit {
        munmap(base, byteCount)
        close(descriptor)
    }

    /// The start of slot `index`.
    func slotBase(_ index: Int) -> UnsafeMutableRawPointer {
        base + 8 * Self.headerWords + index * Self.slotBytes(seriesPerSlot)
    }

    func slotWord(_ slot: Int, _ word: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (slotBase(slot) + 8 * word).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    /// The process owning slot `index` (0 when none: its gauges are left out of scrapes).
    public func owner(ofSlot index: Int) -> Int32 {
        Int32(truncatingIfNeeded: slotWord(index, SlotWord.owner).load(ordering: .acquiring))
    }

    /// Records that `pid` owns slot `index` now (0: nobody; called by the supervisor when it
    /// reaps a worker, and by the worker when it attaches).
    public func setOwner(ofSlot index: Int, _ pid: Int32) {
        slotWord(index, SlotWord.owner).store(UInt64(UInt32(bitPattern: pid)), ordering: .releasing)
    }

    /// Series in slot `index` (published with release ordering after the entry is complete).
    func seriesCount(_ slot: Int) -> Int {
        Int(slotWord(slot, SlotWord.seriesCount).load(ordering: .acquiring))
    }

    /// Series that did not fit in slot `index` (dropped, counted).
    func droppedSeries(_ slot: Int) -> Int {
        Int(slotWord(slot, SlotWord.dropped).load(ordering: .relaxed))
    }

    func entry(_ slot: Int, _ index: Int) -> SeriesEntry {
        SeriesEntry(base: slotBase(slot) + 8 * Self.slotHeaderWords + index * SeriesLayout.entryBytes)
    }
}

/// Words of a slot header.
enum SlotWord {
    static let owner = 0
    static let seriesCount = 1
    static let dropped = 2
}

/// A failure to set up the shared metrics.
public struct MetricsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

func errnoText() -> String { String(cString: strerror(errno)) }

extension MetricsRegion {
    /// Series stored in slot `index` (for tests and tools).
    public func seriesCountForTests(_ index: Int) -> Int { seriesCount(index) }
}
