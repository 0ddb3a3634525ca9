import NIOCore

/// The attempt deadlines of one event loop's calls, checked by one sweep instead of a NIO timer
/// per call.
///
/// A NIO timer per attempt cost about four allocations and twenty reference-count operations
/// (the scheduled task, its promise, the priority-queue entry) and a cancel on every answer,
/// though timeouts almost never fire. Here a call is armed by storing its deadline and its
/// place in a list (no allocation once the list has grown), disarmed by a swap-remove, and one
/// task per loop — scheduled only while some call is armed — fires what has expired every
/// ``resolution``. Timeouts fire up to one resolution late; they are seconds long.
///
/// Used on its event loop only.
final class AttemptDeadlines {
    /// How late a deadline may fire.
    static let resolution = TimeAmount.milliseconds(10)

    private let eventLoop: any EventLoop
    private var armed: [Call] = []
    private var sweep: Scheduled<Void>?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Calls armed now.
    var count: Int { armed.count }

    /// Arms (or re-arms) `call` to fire `deadlineFired()` at `deadline` (uptime nanoseconds).
    func arm(_ call: Call, at deadline: UInt64) {
        call.deadline = deadline
        if call.deadlineSlot < 0 {
            call.deadlineSlot = armed.count
            armed.append(call)
        }
        if sweep == nil { scheduleSweep() }
    }

    /// Disarms `call`; a no-op when it is not armed.
    func disarm(_ call: Call) {
        let slot = call.deadlineSlot
        guard slot >= 0 else { return }
        call.deadlineSlot = -1
        let last = armed.removeLast()
        if slot < armed.count {
            armed[slot] = last
            last.deadlineSlot = slot
        }
    }

    private func scheduleSweep() {
        sweep = eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: Self.resolution) { [self] in
            sweep = nil
            fireExpired(now: NIODeadline.now().uptimeNanoseconds)
            if !armed.isEmpty { scheduleSweep() }
        }
    }

    /// Disarms and fires every call whose deadline is `now` or earlier. Firing may arm calls
    /// again (a retry, a stream's next silence window), so the expired are collected first.
    func fireExpired(now: UInt64) {
        var expired: [Call] = []
        var i = armed.count - 1
        while i >= 0 {
            let call = armed[i]
            if call.deadline <= now {
                expired.append(call)
                disarm(call)
            }
            i -= 1
        }
        for call in expired { call.deadlineFired() }
    }
}
