import NIOCore

/// The deadlines of one connection's calls, kept by one timer instead of a NIO timer per call.
///
/// A scheduled task per command cost four allocations and about twenty reference-count
/// operations, for a deadline that almost never fires. Calls are armed in send order (their
/// deadlines are nearly always `now + callTimeout`, so the oldest expires first); one timer,
/// set for the earliest deadline, fails what has expired and is set again for the next. Under
/// load it fires about once per call timeout, not once per call. Used on its event loop only.
final class RedisCallDeadlines {
    private let eventLoop: any EventLoop
    private var armed = CircularBuffer<RedisPendingCall>()
    private var timer: Scheduled<Void>?
    private var timerAt = NIODeadline.distantFuture

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Fails `call` with a timeout at `deadline` unless it has finished by then.
    func arm(_ call: RedisPendingCall, at deadline: NIODeadline) {
        call.deadline = deadline
        while let head = armed.first, head.isDone { armed.removeFirst() }
        armed.append(call)
        if deadline < timerAt { setTimer(at: deadline) }
    }

    private func setTimer(at deadline: NIODeadline) {
        timer?.cancel()
        timerAt = deadline
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerAt = .distantFuture
            expire(now: .now())
        }
    }

    /// Fails every armed call whose deadline has passed; sets the timer for the next.
    func expire(now: NIODeadline) {
        var next = NIODeadline.distantFuture
        var expired: [RedisPendingCall] = []
        for call in armed where !call.isDone {
            if call.deadline <= now { expired.append(call) } else if call.deadline < next { next = call.deadline }
        }
        for call in expired { call.finish(.failure(.timeout)) }  // may arm new calls
        while let head = armed.first, head.isDone { armed.removeFirst() }
        if next < timerAt, next != .distantFuture { setTimer(at: next) }
    }
}
