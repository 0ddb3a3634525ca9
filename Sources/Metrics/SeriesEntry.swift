import Atomics

/// The fixed layout of one series in a slot: a family id, the label values (joined by 0x1F)
/// and ``cellCount`` 8-byte cells. A counter or gauge uses cell 0; a histogram uses cell 0 for
/// the count, 1 for the sum and 2... for the (non-cumulative) bucket counts.
enum SeriesLayout {
    static let keyBytes = 248
    static let cellCount = 40
    static let entryBytes = 8 + keyBytes + 8 * cellCount
    /// Separates label values in a key.
    static let separator: UInt8 = 0x1F
}

/// One series entry in shared memory.
struct SeriesEntry {
    let base: UnsafeMutableRawPointer

    var family: Int { Int(base.load(as: UInt16.self)) }
    var keyLength: Int { Int(base.load(fromByteOffset: 2, as: UInt16.self)) }

    /// The label values as stored.
    var key: String {
        String(decoding: UnsafeRawBufferPointer(start: base + 8, count: keyLength), as: UTF8.self)
    }

    /// Writes family and key (before the series is published).
    func initialize(family: Int, key: [UInt8]) {
        base.storeBytes(of: UInt16(family), as: UInt16.self)
        base.storeBytes(of: UInt16(key.count), toByteOffset: 2, as: UInt16.self)
        if !key.isEmpty { key.withUnsafeBytes { (base + 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    }

    func cell(_ index: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: (base + 8 + SeriesLayout.keyBytes + 8 * index).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }
}
