/// A small, fast pseudo-random generator (wyrand) for routing decisions and call ids.
///
/// `SystemRandomNumberGenerator` makes a system call per draw; one of these per event loop,
/// seeded once from the system generator, keeps the hot path free of syscalls. Not for secrets.
public struct FastRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) { state = seed }

    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0xA076_1D64_78BD_642F
        let m = state.multipliedFullWidth(by: state ^ 0xE703_7ED1_A0B4_28DB)
        return m.high ^ m.low
    }
}
