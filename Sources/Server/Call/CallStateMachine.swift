import CallModel

/// One client request, as a state machine: it makes attempts until one answers or the policy
/// gives up, writes the client's head exactly once, and completes exactly once. Transitions
/// return what the driver (``Call``) must do.
///
/// ```
/// preparing ─attempt─▶ waiting ─first stream bytes─▶ streaming ─end / failure─▶ done
///                        │ ├─answer / failure (no retry)─────────────────────▶ done
///                        │ └─failure, retry────▶ waiting (next attempt)
/// any ─client gone─▶ done
/// ```
/// While `waiting`, nothing has been written to the client, so every failure may still be
/// retried or fall back; once `streaming`, the stream is never switched.
struct CallStateMachine {
    enum State: Equatable {
        case preparing
        /// `attempts` made so far.
        case waiting(attempts: Int)
        case streaming
        case done
    }

    enum Action: Equatable {
        case none
        /// Make another attempt for this reason.
        case startAttempt(AttemptRecord.Reason)
        /// Write the stream's head, then its first bytes.
        case writeStreamHead
        /// Write the complete answer.
        case writeAnswer
        /// Answer the failure as an error (nothing was written yet).
        case writeFailure
        /// End the stream normally.
        case endStream
        /// End the stream with an SSE error event for the failure.
        case endStreamWithError
        /// Abandon the attempt in progress; nothing more is written.
        case abandon
    }

    private(set) var state = State.preparing

    var isDone: Bool { state == .done }

    /// The call is ready for its first attempt.
    mutating func start() -> Action {
        guard state == .preparing else { return .none }
        state = .waiting(attempts: 1)
        return .startAttempt(.first)
    }

    /// Answered without an attempt (mock, or refused before routing).
    mutating func answeredWithoutAttempt() -> Action {
        guard state == .preparing else { return .none }
        state = .done
        return .writeAnswer
    }

    /// The attempt's stream produced its first bytes for the client.
    mutating func firstStreamBytes() -> Action {
        guard case .waiting = state else { return .none }
        state = .streaming
        return .writeStreamHead
    }

    /// The attempt's complete answer arrived.
    mutating func answered() -> Action {
        guard case .waiting = state else { return .none }
        state = .done
        return .writeAnswer
    }

    /// The attempt's stream ended.
    mutating func streamEnded() -> Action {
        switch state {
        case .streaming:
            state = .done
            return .endStream
        case .waiting:
            // A stream that ended without any event: an empty (but valid) stream.
            state = .done
            return .writeStreamHead
        case .preparing, .done:
            return .none
        }
    }

    /// The attempt failed; `retry` is what the policy allows next (`nil`: give up).
    mutating func attemptFailed(retry: AttemptRecord.Reason?) -> Action {
        switch state {
        case .waiting(let n):
            if let retry {
                state = .waiting(attempts: n + 1)
                return .startAttempt(retry)
            }
            state = .done
            return .writeFailure
        case .streaming:
            state = .done
            return .endStreamWithError
        case .preparing:
            state = .done
            return .writeFailure
        case .done:
            return .none
        }
    }

    /// The call's deadline passed with the attempt still running.
    mutating func deadlinePassed() -> Action {
        switch state {
        case .waiting, .preparing:
            state = .done
            return .writeFailure
        case .streaming:
            state = .done
            return .endStreamWithError
        case .done:
            return .none
        }
    }

    /// The client went away.
    mutating func clientGone() -> Action {
        guard state != .done else { return .none }
        state = .done
        return .abandon
    }
}
