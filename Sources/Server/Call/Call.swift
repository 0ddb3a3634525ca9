import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import Providers
import Routing

/// One model call (chat, completion, embedding) from request to record: validates the body,
/// routes it, makes attempts (``AttemptStateMachine``) against deployments under the
/// ``CallStateMachine``, is the only writer to the client, and hands a ``CallRecord`` to the
/// loop's sinks when it completes. Lives on the client connection's event loop.
final class Call: UpstreamResponseDelegate {
    unowned let handler: HTTPGatewayHandler
    let endpoint: Endpoint
    let pathModel: String?
    var gateway: GatewayContext { handler.gateway }

    private var machine = CallStateMachine()
    private var attempt: AttemptStateMachine?
    /// Numbers attempts, so a late connect result of an abandoned attempt is ignored.
    private var attemptSerial = 0

    private var routed: RoutedDeployment?
    private var prepared: PreparedCall?
    private var connection: UpstreamConnection?
    /// Whether the current attempt's connection came from the pool (it may have gone stale).
    private var connectionReused = false
    private var callID = ""
    private var timer: Scheduled<Void>?

    // What the record needs.
    private var current: AttemptRecord?
    private var firstAttempt: AttemptRecord?
    private var laterAttempts: [AttemptRecord] = []
    private var failure: UpstreamFailure?
    /// Set when the call ends failed (an error answer, a stream cut by an error, a client gone).
    private var outcomeFailure: UpstreamFailure?
    private var usage: TokenUsage?
    /// The last upstream head's rate-limit headers (kept here: `attempt` is busy while it emits).
    private var rateLimit: RateLimitHeaders?
    private var mocked = false
    private var answeredStatus = 0

    // Timing, in uptime nanoseconds.
    private let receivedAt = NIODeadline.now().uptimeNanoseconds
    private var attemptStartedAt: UInt64 = 0
    private var sentAt: UInt64 = 0
    /// Stream progress: when the upstream last sent bytes (or the attempt started).
    private var lastProgressAt: UInt64 = 0
    private var firstByteAt: UInt64 = 0
    /// Time spent waiting on upstreams (all attempts), for the overhead figure.
    private var upstreamWait: UInt64 = 0

    init(handler: HTTPGatewayHandler, endpoint: Endpoint, pathModel: String?) {
        self.handler = handler
        self.endpoint = endpoint
        self.pathModel = pathModel
    }

    // MARK: Start

    func start(body: ByteBuffer) {
        callID = handler.loop.makeCallID()
        let routed: RoutedDeployment
        let prepared: PreparedCall
        do throws(OpenAIError) {
            let request = try CallRequest.parse(body, endpoint: endpoint, pathModel: pathModel)
            guard let group = gateway.router.resolve(request.model) else {
                throw .badRequest(
                    "Invalid model name passed in model=\(request.model). Call `/v1/models` to view available models for your key.",
                    param: "model")
            }
            routed = group.pick(using: &handler.loop.random)
            self.routed = routed
            if let mock = request.mock ?? routed.deployment.params.mockResponse {
                answerMock(mock, request: request, model: ProviderRegistry.split(routed.model)?.model ?? routed.model)
                return
            }
            prepared = try PreparedCall(request: request, routed: routed, gateway: gateway)
        } catch {
            refuse(error)
            return
        }
        self.prepared = prepared
        scheduleTimer(in: prepared.timeout)
        perform(machine.start())
    }

    // MARK: Attempts

    private func startAttempt(_ reason: AttemptRecord.Reason) {
        guard let prepared else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        attemptSerial += 1
        attempt = AttemptStateMachine(translator: prepared.makeTranslator(), maxBodyBytes: gateway.maxUpstreamBodyBytes)
        var record = AttemptRecord(deploymentID: prepared.plan.deployment.id, deploymentIndex: prepared.slot, reason: reason)
        record.startNanoseconds = now &- receivedAt
        current = record
        attemptStartedAt = now
        lastProgressAt = now
        handler.loop.stats.attemptStarted(prepared.slot)
        let pool = handler.loop.pool
        if reason != .staleConnection, let conn = pool.takeIdle(prepared.request.target) {
            use(conn, reused: true)
            return
        }
        let serial = attemptSerial
        pool.connect(prepared.request.target).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let conn):
                if serial == attemptSerial, attempt?.isFinished == false { use(conn, reused: false) } else { conn.cancel() }
            case .failure(let error):
                guard serial == attemptSerial else { return }
                upstreamFailed(ConnectionFailure(classifying: error), beforeResponse: true)
            }
        }
    }

    private func use(_ conn: UpstreamConnection, reused: Bool) {
        guard let prepared, case .sendRequest = attempt?.connected() else { return }
        connection = conn
        connectionReused = reused
        sentAt = NIODeadline.now().uptimeNanoseconds
        conn.send(prepared.request, to: self)
    }

    func upstreamHead(_ head: UpstreamHead) {
        current?.upstreamStatus = head.status
        current?.headNanoseconds = NIODeadline.now().uptimeNanoseconds &- sentAt
        rateLimit = head.rateLimit.isEmpty ? nil : head.rateLimit
        act(attempt?.receivedHead(head) ?? .none)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        if prepared?.stream == true { lastProgressAt = NIODeadline.now().uptimeNanoseconds }
        act(attempt?.receivedBody(buffer, emit: emit) ?? .none)
        if connection != nil, !handler.isWritable { connection?.setReading(false) }
    }

    func upstreamEnd() {
        connection = nil
        act(attempt?.receivedEnd(emit: emit) ?? .none)
    }

    func upstreamFailed(_ failure: ConnectionFailure, beforeResponse: Bool) {
        connection = nil
        act(attempt?.failed(failure, beforeResponse: beforeResponse) ?? .none)
    }

    func upstreamMalformed(_ reason: String) {
        connection = nil
        act(attempt?.malformed(reason) ?? .none)
    }

    /// Stream bytes for the client: the first ones write the head.
    private func emit(_ bytes: ByteBuffer, first: Bool) {
        if first {
            firstByteAt = NIODeadline.now().uptimeNanoseconds
            current?.firstByteNanoseconds = firstByteAt &- sentAt
            upstreamWait &+= firstByteAt &- sentAt
            guard case .writeStreamHead = machine.firstStreamBytes() else { return }
            handler.writeStreamHead(meta: metadata())
        }
        handler.writeStreamChunk(bytes)
    }

    private func act(_ action: AttemptStateMachine.Action) {
        switch action {
        case .none, .sendRequest:
            break
        case .answer(let status, let body):
            let now = NIODeadline.now().uptimeNanoseconds
            upstreamWait &+= now &- sentAt
            finishAttempt(failure: nil)
            guard case .writeAnswer = machine.answered() else { return }
            firstByteAt = now
            answeredStatus = status
            handler.writeJSON(status: HTTPResponseStatus(statusCode: status), body, meta: metadata())
            complete()
        case .streamEnded:
            finishAttempt(failure: nil)
            switch machine.streamEnded() {
            case .endStream:
                handler.writeStreamEnd()
            case .writeStreamHead:
                firstByteAt = NIODeadline.now().uptimeNanoseconds
                handler.writeStreamHead(meta: metadata())
                handler.writeStreamEnd()
            default:
                return
            }
            answeredStatus = 200
            complete()
        case .fail(let failure, let beforeFirstByte):
            if beforeFirstByte && firstByteAt == 0 { upstreamWait &+= NIODeadline.now().uptimeNanoseconds &- max(sentAt, attemptStartedAt) }
            finishAttempt(failure: failure)
            perform(machine.attemptFailed(retry: retryReason(after: failure, beforeFirstByte: beforeFirstByte)))
        }
    }

    /// Today's policy: one attempt, plus one more on a fresh connection when a pooled
    /// keep-alive connection turned out to be closed. (The router will decide more.)
    private func retryReason(after failure: UpstreamFailure, beforeFirstByte: Bool) -> AttemptRecord.Reason? {
        guard beforeFirstByte, case .connection = failure, connectionReused else { return nil }
        let alreadyRetried = firstAttempt != nil && laterAttempts.contains { $0.reason == .staleConnection }
        return alreadyRetried ? nil : .staleConnection
    }

    private func perform(_ action: CallStateMachine.Action) {
        switch action {
        case .none, .writeStreamHead, .writeAnswer, .endStream:
            break
        case .startAttempt(let reason):
            startAttempt(reason)
        case .writeFailure:
            let answer = FailureAnswer(failure ?? .malformed("no answer"), group: routed?.group ?? "", apiBase: prepared?.plan.apiBase ?? "")
            answeredStatus = answer.status
            outcomeFailure = failure
            firstByteAt = NIODeadline.now().uptimeNanoseconds
            answer.write(to: handler, meta: metadata())
            complete()
        case .endStreamWithError:
            let answer = FailureAnswer(failure ?? .malformed("no answer"), group: routed?.group ?? "", apiBase: prepared?.plan.apiBase ?? "")
            answeredStatus = 200
            outcomeFailure = failure
            answer.writeStreamEvent(to: handler)
            handler.writeStreamEnd()
            complete()
        case .abandon:
            cancelAttempt()
            outcomeFailure = .clientGone
            if answeredStatus == 0 { answeredStatus = 499 }
            complete()
        }
    }

    /// Closes the current attempt's record (and its connection, if it failed).
    private func finishAttempt(failure: UpstreamFailure?) {
        guard var record = current, let prepared else { return }
        current = nil
        record.failure = failure
        record.durationNanoseconds = NIODeadline.now().uptimeNanoseconds &- attemptStartedAt
        if let failure {
            self.failure = failure
            connection?.cancel()
            connection = nil
        }
        if firstAttempt == nil { firstAttempt = record } else { laterAttempts.append(record) }
        if let usage = attempt?.translator.usage {
            self.usage = usage
        } else if failure == nil, let translator = attempt?.translator {
            usage = .estimate(promptBytes: prepared.request.body.readableBytes, completionBytes: translator.contentBytes)
        }
        handler.loop.stats.attemptEnded(prepared.slot)
    }

    private func cancelAttempt() {
        attempt?.cancel()
        connection?.cancel()
        connection = nil
        if current != nil { finishAttempt(failure: failure ?? .clientGone) }
    }

    // MARK: Timeouts

    private func scheduleTimer(in seconds: Double) {
        let amount = TimeAmount.nanoseconds(Int64(min(max(seconds, 0.001), 86_400) * 1e9))
        timer = handler.loop.pool.eventLoop.assumeIsolated().scheduleTask(in: amount) { [self] in
            timerFired()
        }
    }

    /// A plain call's `timeout` bounds the whole call. A stream's `stream_timeout` bounds the
    /// wait for its first event and every silence after: the timer re-arms for what is left
    /// since the last bytes, so a healthy stream never times out.
    private func timerFired() {
        timer = nil
        guard let prepared, !machine.isDone else { return }
        let limit = prepared.timeout
        if prepared.stream {
            let silent = NIODeadline.now().uptimeNanoseconds &- lastProgressAt
            let limitNanos = UInt64(limit * 1e9)
            if silent < limitNanos {
                scheduleTimer(in: Double(limitNanos - silent) / 1e9)
                return
            }
        }
        let streaming = attempt?.hasEmitted ?? false
        let f: UpstreamFailure = streaming ? .streamSilence(seconds: limit) : .timeout(seconds: limit)
        failure = f
        let beforeFirstByte = !streaming
        attempt?.cancel()
        connection?.cancel()
        connection = nil
        if beforeFirstByte { upstreamWait &+= NIODeadline.now().uptimeNanoseconds &- max(sentAt, attemptStartedAt) }
        finishAttempt(failure: f)
        perform(machine.deadlinePassed())
    }

    // MARK: Answers without attempts

    private func refuse(_ error: OpenAIError) {
        _ = machine.answeredWithoutAttempt()
        answeredStatus = error.status
        firstByteAt = NIODeadline.now().uptimeNanoseconds
        handler.writeError(error, meta: routed == nil ? nil : metadata())
        complete()
    }

    private func answerMock(_ mock: JSONValue, request: CallRequest, model: String) {
        guard case .writeAnswer = machine.answeredWithoutAttempt() else { return }
        mocked = true
        firstByteAt = NIODeadline.now().uptimeNanoseconds
        let answer = MockResponder.answer(
            mock, endpoint: endpoint, model: model, stream: request.stream, includeUsage: request.clientWantsUsage, callID: callID,
            promptChars: request.body.readableBytes, created: Int(NIODeadline.wallClockSeconds), inputs: request.embeddingInputs)
        switch answer {
        case .json(let buffer):
            answeredStatus = 200
            usage = UsageFinder.usage(inAnswer: buffer)
            handler.writeJSON(status: .ok, buffer, meta: metadata())
        case .stream(let events):
            answeredStatus = 200
            handler.writeStreamHead(meta: metadata())
            var bytes = 0
            for e in events {
                bytes += e.readableBytes
                handler.writeStreamChunk(e)
            }
            usage = .estimate(promptBytes: request.body.readableBytes, completionBytes: bytes / 8)
            handler.writeStreamEnd()
        case .error(let error):
            answeredStatus = error.status
            handler.writeError(error, meta: metadata())
        }
        complete()
    }

    // MARK: Client events

    func clientDisconnected() {
        failure = failure ?? .clientGone
        perform(machine.clientGone())
    }

    func clientWritabilityChanged(_ writable: Bool) {
        connection?.setReading(writable)
    }

    // MARK: Completion

    /// The call is over: the timer stops and the record goes to the loop's sinks.
    private func complete() {
        timer?.cancel()
        timer = nil
        let now = NIODeadline.now().uptimeNanoseconds
        let total = now &- receivedAt
        let record = CallRecord(
            callID: callID, route: endpoint.recordRoute, modelGroup: routed?.group,
            deploymentID: routed?.deployment.id, firstAttempt: firstAttempt, laterAttempts: laterAttempts,
            status: answeredStatus, failure: outcomeFailure,
            stream: prepared?.stream ?? false, mocked: mocked, caller: gateway.masterKey == nil ? .anonymous : .masterKey,
            timeToFirstByteNanoseconds: firstByteAt == 0 ? 0 : firstByteAt &- receivedAt, totalNanoseconds: total,
            overheadNanoseconds: total &- min(total, upstreamWait), usage: usage)
        for sink in handler.loop.sinks { sink.record(record) }
    }

    // MARK: Headers

    private func metadata() -> ResponseMetadata {
        let now = NIODeadline.now().uptimeNanoseconds
        let total = now &- receivedAt
        let wait = current == nil ? upstreamWait : upstreamWait &+ (sentAt == 0 ? 0 : now &- sentAt)
        let attempts = (firstAttempt == nil ? 0 : 1 + laterAttempts.count) + (current == nil ? 0 : 1)
        return ResponseMetadata(
            callID: callID, modelID: routed?.deployment.id, group: routed?.group, apiBase: prepared?.plan.apiBase,
            totalNanoseconds: total, overheadNanoseconds: total &- min(total, wait),
            attemptedRetries: max(0, attempts - 1), rateLimit: rateLimit)
    }
}

extension Endpoint {
    var recordRoute: CallRecord.Route {
        switch self {
        case .chatCompletions: return .chatCompletions
        case .completions: return .completions
        case .embeddings: return .embeddings
        }
    }
}
