import CallModel
import NIOCore

/// One try against one deployment, as a state machine: connection, upstream head, body
/// (buffered whole, or streamed through the translator), end or failure. Transitions return
/// what the driver (``Call``) must do; the machine itself does no I/O.
///
/// ```
/// connecting ─connected─▶ awaitingHead ─head 2xx─▶ streaming ─end─▶ finished
///                               │           └────▶ buffering ─end─▶ finished (answer)
///                               └─head ≥300─▶ bufferingError ─end─▶ finished (failure)
/// any state ─transport failure / malformed / cancel─▶ finished
/// ```
struct AttemptStateMachine {
    enum State {
        case connecting
        case awaitingHead
        case buffering(UpstreamHead, ByteBuffer?)
        case bufferingError(UpstreamHead, ByteBuffer?)
        /// `emitted`: whether the client has been handed a first event.
        case streaming(emitted: Bool)
        case finished
    }

    enum Action {
        case none
        /// Send the request on the connection.
        case sendRequest
        /// A complete answer for the client.
        case answer(status: Int, ByteBuffer)
        /// The stream ended; `emitted` tells whether any event reached the client.
        case streamEnded(emitted: Bool)
        /// The attempt failed; `beforeFirstByte`: nothing of it reached the client.
        case fail(UpstreamFailure, beforeFirstByte: Bool)
    }

    private(set) var state = State.connecting
    let translator: any ResponseTranslator
    /// The cap on a buffered body.
    let maxBodyBytes: Int
    /// The upstream's head, once it came.
    private(set) var head: UpstreamHead?

    init(translator: any ResponseTranslator, maxBodyBytes: Int) {
        self.translator = translator
        self.maxBodyBytes = maxBodyBytes
    }

    var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Whether anything of this attempt reached the client.
    var hasEmitted: Bool {
        if case .streaming(true) = state { return true }
        return false
    }

    mutating func connected() -> Action {
        guard case .connecting = state else { return .none }
        state = .awaitingHead
        return .sendRequest
    }

    mutating func receivedHead(_ head: UpstreamHead) -> Action {
        guard case .awaitingHead = state else { return .none }
        self.head = head
        if !head.isSuccess {
            state = .bufferingError(head, nil)
        } else if translator.handling(for: head) == .stream {
            state = .streaming(emitted: false)
        } else {
            state = .buffering(head, nil)
        }
        return .none
    }

    /// Body bytes: buffered, or translated and passed to `emit` (`first` is true once).
    mutating func receivedBody(_ bytes: ByteBuffer, emit: (ByteBuffer, _ first: Bool) -> Void) -> Action {
        switch state {
        case .buffering(let head, var body):
            state = .finished  // drop the reference so appending does not copy
            guard append(bytes, to: &body) else { return .fail(.bodyTooLarge(limit: maxBodyBytes), beforeFirstByte: true) }
            state = .buffering(head, body)
            return .none
        case .bufferingError(let head, var body):
            state = .finished
            // An error body is kept only as far as the cap; it is cut, not refused.
            if (body?.readableBytes ?? 0) < maxBodyBytes { _ = append(bytes, to: &body) }
            state = .bufferingError(head, body)
            return .none
        case .streaming(var emitted):
            do throws(UpstreamFailure) {
                try translator.stream(bytes) { out in
                    emit(out, !emitted)
                    emitted = true
                }
            } catch {
                state = .finished
                return .fail(error, beforeFirstByte: !emitted)
            }
            state = .streaming(emitted: emitted)
            return .none
        case .connecting, .awaitingHead, .finished:
            return .none
        }
    }

    mutating func receivedEnd(emit: (ByteBuffer, _ first: Bool) -> Void) -> Action {
        switch state {
        case .buffering(let head, let body):
            state = .finished
            do throws(UpstreamFailure) {
                let out = try translator.translate(body ?? ByteBuffer())
                return .answer(status: head.status, out)
            } catch {
                return .fail(error, beforeFirstByte: true)
            }
        case .bufferingError(let head, let body):
            state = .finished
            let body = body ?? ByteBuffer()
            let kind = translator.classifyError(status: head.status, body: body)
            let clientBody = translator.clientErrorBody(status: head.status, body: body)
            let status = UpstreamErrorStatus(status: head.status, kind: kind, body: body, clientBody: clientBody, retryAfter: head.retryAfter)
            return .fail(.status(status), beforeFirstByte: true)
        case .streaming(var emitted):
            state = .finished
            do throws(UpstreamFailure) {
                try translator.streamEnd { out in
                    emit(out, !emitted)
                    emitted = true
                }
            } catch {
                return .fail(error, beforeFirstByte: !emitted)
            }
            return .streamEnded(emitted: emitted)
        case .connecting, .awaitingHead:
            state = .finished
            return .fail(.malformed("the response ended before its head"), beforeFirstByte: true)
        case .finished:
            return .none
        }
    }

    /// The connection could not be opened, broke, or sent bytes that are not HTTP.
    mutating func failed(_ failure: ConnectionFailure, beforeResponse: Bool) -> Action {
        if isFinished { return .none }
        let emitted = hasEmitted
        state = .finished
        let f: UpstreamFailure = beforeResponse ? .connection(failure) : .interrupted(failure)
        return .fail(f, beforeFirstByte: !emitted)
    }

    mutating func malformed(_ reason: String) -> Action {
        if isFinished { return .none }
        let emitted = hasEmitted
        state = .finished
        return .fail(.malformed(reason), beforeFirstByte: !emitted)
    }

    /// The attempt is abandoned (timeout, client gone): nothing more is delivered.
    mutating func cancel() {
        state = .finished
    }

    private func append(_ bytes: ByteBuffer, to body: inout ByteBuffer?) -> Bool {
        var bytes = bytes
        if body == nil {
            body = bytes
        } else {
            body!.writeBuffer(&bytes)
        }
        return body!.readableBytes <= maxBodyBytes
    }
}
