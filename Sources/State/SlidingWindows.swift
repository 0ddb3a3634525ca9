/// Requests admitted in any 60-second window, exactly: a ring of the admission times of the
/// last `limit` requests. The request may pass when the oldest of them is older than the
/// window (or the ring is not full). O(1), `limit` × 8 bytes.
struct RequestWindow {
    static let windowNanoseconds: UInt64 = 60_000_000_000
    private var times: [UInt64]
    private var next = 0
    private var count = 0

    init(limit: Int) {
        times = Array(repeating: 0, count: max(1, limit))
    }

    var limit: Int { times.count }

    /// Whether a request may be admitted at `now`.
    func canAdmit(now: UInt64) -> Bool {
        count < times.count || now &- times[next] >= Self.windowNanoseconds
    }

    /// Nanoseconds until a request may be admitted (0: now).
    func wait(now: UInt64) -> UInt64 {
        canAdmit(now: now) ? 0 : Self.windowNanoseconds - (now &- times[next])
    }

    mutating func admit(now: UInt64) {
        times[next] = now
        next = (next + 1) % times.count
        if count < times.count { count += 1 }
    }

    /// Requests admitted in the window ending at `now`.
    func used(now: UInt64) -> Int {
        var n = 0
        var i = (next - count + times.count) % times.count
        for _ in 0..<count {
            if now &- times[i] < Self.windowNanoseconds { n += 1 }
            i = (i + 1) % times.count
        }
        return n
    }
}

/// Tokens used in the last 60 seconds, in 60 one-second buckets with a running total (so a
/// boundary admits at most a sixtieth more than the limit, never twice). Reservations go into
/// the bucket of their admission and are corrected there when settled.
struct TokenWindow {
    static let buckets = 60
    static let bucketNanoseconds: UInt64 = 1_000_000_000
    private var tokens = [Int](repeating: 0, count: buckets)
    /// The absolute second each bucket currently holds.
    private var seconds = [UInt64](repeating: 0, count: buckets)
    private(set) var total = 0
    private var advancedTo: UInt64 = 0

    /// Drops buckets older than the window (work only when the second changed).
    mutating func advance(now: UInt64) {
        let second = now / Self.bucketNanoseconds
        guard second != advancedTo else { return }
        advancedTo = second
        for i in 0..<Self.buckets where tokens[i] != 0 && second &- seconds[i] >= UInt64(Self.buckets) {
            total -= tokens[i]
            tokens[i] = 0
        }
    }

    mutating func add(_ n: Int, at time: UInt64) {
        let second = time / Self.bucketNanoseconds
        let i = Int(second % UInt64(Self.buckets))
        if seconds[i] != second {
            total -= tokens[i]
            tokens[i] = 0
            seconds[i] = second
        }
        tokens[i] += n
        total += n
    }

    /// Corrects a reservation made at `time` by `delta` tokens (if its bucket is still in the window).
    mutating func correct(_ delta: Int, at time: UInt64) {
        let second = time / Self.bucketNanoseconds
        let i = Int(second % UInt64(Self.buckets))
        guard seconds[i] == second else { return }
        let new = max(0, tokens[i] + delta)
        total += new - tokens[i]
        tokens[i] = new
    }

    /// Nanoseconds until `needed` more tokens would fit under `limit` (0: now; the full window when never).
    func wait(needed: Int, limit: Int, now: UInt64) -> UInt64 {
        guard total + needed > limit else { return 0 }
        guard needed <= limit else { return RequestWindow.windowNanoseconds }
        // Oldest buckets expire first.
        let second = now / Self.bucketNanoseconds
        var freed = 0
        for age in stride(from: Self.buckets - 1, through: 0, by: -1) {
            let s = second &- UInt64(age)
            let i = Int(s % UInt64(Self.buckets))
            if seconds[i] == s { freed += tokens[i] }
            if total - freed + needed <= limit {
                return UInt64(Self.buckets - age) * Self.bucketNanoseconds - now % Self.bucketNanoseconds
            }
        }
        return RequestWindow.windowNanoseconds
    }
}
