/// Byte-pair encoding of one pre-tokenized piece: the piece starts as one symbol per byte and
/// the adjacent pair with the lowest merge rank is merged (leftmost first on a tie) until no pair
/// merges — the rule of both tiktoken and Hugging Face `tokenizers`.
struct BytePairModel: Sendable {
    /// What a single byte starts as.
    enum ByteSymbol: Sendable {
        /// A token of its own.
        case token(Int32)
        /// Not in the vocabulary: its byte-fallback tokens (`<0xAB>`), or none.
        case fallback([Int32])
        /// Not in the vocabulary and no fallback: the unknown token (fused with a neighbouring
        /// unknown when `fuseUnknown`).
        case unknown(Int32)
    }

    /// Whole tokens by their bytes (for `wholePieceFirst`).
    let vocabulary: ByteSequenceTable
    let merges: PairMergeTable
    let byteSymbols: [ByteSymbol]
    /// A piece that is itself a token is that token, without merging (tiktoken always;
    /// Hugging Face's `ignore_merges`).
    let wholePieceFirst: Bool
    let fuseUnknown: Bool

    /// Pieces longer than this (in symbols) merge with a heap instead of linear scans.
    private static let linearLimit = 48

    /// Appends the tokens of `piece` to `out`.
    @inline(__always)
    func encode(_ piece: UnsafeRawBufferPointer, into out: inout [Int32], scratch: inout MergeScratch) {
        if piece.count == 1, case .token(let t) = byteSymbols[Int(piece[0])] {
            out.append(t)
            return
        }
        if wholePieceFirst, let t = vocabulary.lookup(piece) {
            out.append(t)
            return
        }
        scratch.ids.removeAll(keepingCapacity: true)
        var pendingUnknown: Int32?
        for b in piece {
            switch byteSymbols[Int(b)] {
            case .token(let t):
                if let u = pendingUnknown { scratch.ids.append(u); pendingUnknown = nil }
                scratch.ids.append(t)
            case .fallback(let ts):
                // As `tokenizers` does: a pending unknown waits (and may fuse) across fallback bytes.
                scratch.ids.append(contentsOf: ts)
            case .unknown(let u):
                if pendingUnknown != nil && fuseUnknown { continue }
                if let p = pendingUnknown { scratch.ids.append(p) }
                pendingUnknown = u
            }
        }
        if let u = pendingUnknown { scratch.ids.append(u) }
        if scratch.ids.count <= Self.linearLimit {
            mergeLinear(&scratch)
        } else {
            mergeWithHeap(&scratch)
        }
        out.append(contentsOf: scratch.ids)
    }

    /// Short pieces: ranks of adjacent pairs kept in an array, the minimum found by a scan.
    private func mergeLinear(_ s: inout MergeScratch) {
        let n = s.ids.count
        guard n > 1 else { return }
        s.ranks.removeAll(keepingCapacity: true)
        s.results.removeAll(keepingCapacity: true)
        for i in 0..<(n - 1) {
            let m = merges.lookup(s.ids[i], s.ids[i + 1])
            s.ranks.append(m?.rank ?? .max)
            s.results.append(m?.result ?? 0)
        }
        while s.ids.count > 1 {
            var best = Int32.max
            var at = -1
            for i in 0..<s.ranks.count where s.ranks[i] < best {
                best = s.ranks[i]
                at = i
            }
            if at < 0 { break }
            s.ids[at] = s.results[at]
            s.ids.remove(at: at + 1)
            s.ranks.remove(at: at)
            s.results.remove(at: at)
            if at > 0 {
                let m = merges.lookup(s.ids[at - 1], s.ids[at])
                s.ranks[at - 1] = m?.rank ?? .max
                s.results[at - 1] = m?.result ?? 0
            }
            if at < s.ranks.count {
                let m = merges.lookup(s.ids[at], s.ids[at + 1])
                s.ranks[at] = m?.rank ?? .max
                s.results[at] = m?.result ?? 0
            }
        }
    }

    /// Long pieces: a linked list of symbols and a min-heap of (rank, position); stale entries
    /// (a side already merged) are skipped when popped.
    private func mergeWithHeap(_ s: inout MergeScratch) {
        let n = s.ids.count
        var next = Array(0..<n).map { Int32($0 + 1) }
        next[n - 1] = -1
        var prev = Array(0..<n).map { Int32($0 - 1) }
        var alive = Array(repeating: true, count: n)
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            if let m = merges.lookup(s.ids[i], s.ids[i + 1]) { heap.push(rank: m.rank, position: Int32(i)) }
        }
        while let (rank, p) = heap.pop() {
            let pos = Int(p)
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = Int(next[pos])
            guard let m = merges.lookup(s.ids[pos], s.ids[right]), m.rank == rank else { continue }
            s.ids[pos] = m.result
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(pos) }
            if prev[pos] >= 0, let l = merges.lookup(s.ids[Int(prev[pos])], s.ids[pos]) {
                heap.push(rank: l.rank, position: prev[pos])
            }
            if next[pos] >= 0, let r = merges.lookup(s.ids[pos], s.ids[Int(next[pos])]) {
                heap.push(rank: r.rank, position: Int32(pos))
            }
        }
        var k = 0
        for i in 0..<n where alive[i] {
            s.ids[k] = s.ids[i]
            k += 1
        }
        s.ids.removeLast(n - k)
    }
}

/// Buffers reused from piece to piece.
struct MergeScratch {
    var ids: [Int32] = []
    var ranks: [Int32] = []
    var results: [Int32] = []
}

/// A binary min-heap of (rank, position), ordered by rank then position.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(rank: Int32, position: Int32) {
        items.append(UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: position)))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (Int32, Int32)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return (Int32(bitPattern: UInt32(top >> 32)), Int32(bitPattern: UInt32(top & 0xFFFF_FFFF)))
    }
}
