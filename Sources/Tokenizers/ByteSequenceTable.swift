/// An open-addressing hash table from byte sequences to token ids, looked up from a pointer and a
/// length (no array made per lookup). Built once at load.
struct ByteSequenceTable: Sendable {
    private var arena: [UInt8] = []
    private var offsets: [Int32] = []
    private var lengths: [Int32] = []
    private var values: [Int32] = []
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { values.count }

    @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Adds (or replaces) `bytes` → `value`.
    mutating func insert(_ bytes: some Collection<UInt8>, value: Int32) {
        let key = Array(bytes)
        if count * 2 >= slots.count { grow() }
        key.withUnsafeBytes { raw in
            var s = Self.hash(raw) & mask
            while slots[s] >= 0 {
                let e = Int(slots[s])
                if equal(e, raw) {
                    values[e] = value
                    return
                }
                s = (s + 1) & mask
            }
            slots[s] = Int32(values.count)
            offsets.append(Int32(arena.count))
            lengths.append(Int32(raw.count))
            values.append(value)
            arena.append(contentsOf: raw)
        }
    }

    @inline(__always)
    private func equal(_ e: Int, _ raw: UnsafeRawBufferPointer) -> Bool {
        guard Int(lengths[e]) == raw.count else { return false }
        let o = Int(offsets[e])
        return arena.withUnsafeBufferPointer { a in
            for k in 0..<raw.count where a[o + k] != raw[k] { return false }
            return true
        }
    }

    /// The value of `bytes`, if present.
    @inline(__always)
    func lookup(_ raw: UnsafeRawBufferPointer) -> Int32? {
        var s = Self.hash(raw) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { return nil }
            if equal(e, raw) { return values[e] }
            s = (s + 1) & mask
        }
    }

    func lookup(_ bytes: [UInt8]) -> Int32? { bytes.withUnsafeBytes { lookup($0) } }

    /// Every entry (bytes, value), in insertion order.
    func forEach(_ body: (UnsafeRawBufferPointer, Int32) -> Void) {
        arena.withUnsafeBytes { a in
            for e in 0..<values.count {
                let o = Int(offsets[e])
                body(UnsafeRawBufferPointer(rebasing: a[o..<(o + Int(lengths[e]))]), values[e])
            }
        }
    }

    private mutating func grow() {
        var size = slots.count * 2
        if size < 16 { size = 16 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        arena.withUnsafeBytes { a in
            for e in 0..<values.count {
                let o = Int(offsets[e])
                var s = Self.hash(UnsafeRawBufferPointer(rebasing: a[o..<(o + Int(lengths[e]))])) & mask
                while slots[s] >= 0 { s = (s + 1) & mask }
                slots[s] = Int32(e)
            }
        }
    }
}

/// An open-addressing hash table from a pair of token ids to the merge's rank and result.
struct PairMergeTable: Sendable {
    private var keys: [UInt64]
    private var ranks: [Int32]
    private var results: [Int32]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: Self.empty, count: size)
        ranks = Array(repeating: 0, count: size)
        results = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask }

    /// Adds (or replaces) the merge of `a` then `b`.
    mutating func insert(_ a: Int32, _ b: Int32, rank: Int32, result: Int32) {
        if count * 2 >= keys.count { grow() }
        let k = Self.key(a, b)
        var s = slot(k)
        while keys[s] != Self.empty && keys[s] != k { s = (s + 1) & mask }
        if keys[s] == Self.empty { count += 1 }
        keys[s] = k
        ranks[s] = rank
        results[s] = result
    }

    /// The rank and resulting token of merging `a` then `b`, if they merge.
    @inline(__always)
    func lookup(_ a: Int32, _ b: Int32) -> (rank: Int32, result: Int32)? {
        let k = Self.key(a, b)
        var s = slot(k)
        while true {
            let found = keys[s]
            if found == k { return (ranks[s], results[s]) }
            if found == Self.empty { return nil }
            s = (s + 1) & mask
        }
    }

    private mutating func grow() {
        let old = (keys, ranks, results)
        let size = keys.count * 2
        keys = Array(repeating: Self.empty, count: size)
        ranks = Array(repeating: 0, count: size)
        results = Array(repeating: 0, count: size)
        mask = size - 1
        count = 0
        for i in 0..<old.0.count where old.0[i] != Self.empty {
            let k = old.0[i]
            insert(Int32(bitPattern: UInt32(k >> 32)), Int32(bitPattern: UInt32(k & 0xFFFF_FFFF)), rank: old.1[i], result: old.2[i])
        }
    }
}
