import CallModel
import NIOCore
import OpenAIWire
import Providers
import Routing

/// Answers that need no upstream: a refused request and `mock_response`.
extension Call {
    /// The request cannot be served (bad JSON, unknown model): answered before any routing.
    func refuse(_ error: OpenAIError) {
        _ = machine.answeredWithoutAttempt()
        answeredStatus = error.status
        firstByteAt = NIODeadline.now().uptimeNanoseconds
        handler.writeError(error, meta: nil)
        complete()
    }

    /// Answers from `mock_response` on the routed deployment; a mocked error
    /// (`litellm.RateLimitError`, ...) fails the attempt like an upstream would, so retries,
    /// fallbacks and cooldowns can be tried without a network.
    func answerMock(_ mock: JSONValue, reason: AttemptRecord.Reason) {
        guard let request, let routed else { return }
        mocked = true
        beginRecord(reason, at: NIODeadline.now().uptimeNanoseconds)
        let model = ProviderRegistry.split(routed.model)?.model ?? routed.model
        let answer = MockResponder.answer(
            mock, endpoint: endpoint, model: model, stream: request.stream, includeUsage: request.clientWantsUsage, callID: callID,
            promptChars: request.body.readableBytes, created: Int(NIODeadline.wallClockSeconds), inputs: request.embeddingInputs)
        switch answer {
        case .json(let buffer):
            usage = UsageFinder.usage(inAnswer: buffer)
            current?.upstreamStatus = 200
            finishAttempt(failure: nil)
            guard case .writeAnswer = machine.answered() else { return }
            answeredStatus = 200
            firstByteAt = NIODeadline.now().uptimeNanoseconds
            if gateway.recordsBodies { answerBody = buffer }
            handler.writeJSON(status: .ok, buffer, meta: metadata())
        case .stream(let events):
            var bytes = 0
            for e in events { bytes += e.readableBytes }
            usage = .estimate(promptBytes: request.body.readableBytes, completionBytes: bytes / 8)
            current?.upstreamStatus = 200
            finishAttempt(failure: nil)
            guard case .writeStreamHead = machine.firstStreamBytes() else { return }
            answeredStatus = 200
            firstByteAt = NIODeadline.now().uptimeNanoseconds
            handler.writeStreamHead(meta: metadata())
            for e in events {
                if gateway.recordsBodies { keepStreamed(e) }
                handler.writeStreamChunk(e)
            }
            _ = machine.streamEnded()
            handler.writeStreamEnd()
        case .error(let error):
            let f = Self.simulated(error)
            current?.upstreamStatus = error.status
            finishAttempt(failure: f)
            attemptFailed(f, beforeFirstByte: true)
            return
        }
        complete()
    }
}
