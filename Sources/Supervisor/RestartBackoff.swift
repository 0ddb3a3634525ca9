/// Delay before restarting a worker slot that keeps dying: 0.25 s, doubling per consecutive
/// crash up to 30 s. A worker that ran for `stableAfter` before dying starts the count afresh,
/// so a crash loop never spins the CPU and a rare crash is restarted at once.
///
/// ```swift
/// var backoff = RestartBackoff()
/// let delay = backoff.recordCrash(uptime: .milliseconds(80))   // 0.25 s, then 0.5 s, 1 s, …
/// ```
public struct RestartBackoff: Sendable {
    public var initial: Duration = .milliseconds(250)
    public var maximum: Duration = .seconds(30)
    public var stableAfter: Duration = .seconds(30)
    /// Consecutive crashes so far.
    public private(set) var crashes = 0

    public init() {}

    /// Records a crash of a worker that had run for `uptime`; returns the delay before restarting.
    public mutating func recordCrash(uptime: Duration) -> Duration {
        if uptime >= stableAfter { crashes = 0 }
        crashes += 1
        var delay = initial
        for _ in 1..<crashes where delay < maximum { delay *= 2 }
        return min(delay, maximum)
    }

    /// Three or more crashes in a row: worth a warning.
    public var isCrashLoop: Bool { crashes >= 3 }
}
