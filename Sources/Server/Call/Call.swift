import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import Providers
import Routing
import State

/// One model call (chat, completion, embedding) from request to record: validates the body,
/// asks the router for a deployment (``Call/route(_:)`` in Call+Routing.swift), makes attempts
/// (``AttemptStateMachine``) under the ``CallStateMachine``, is the only writer to the client,
/// and hands a ``CallRecord`` to the loop's sinks when it completes. Lives on the client
/// connection's event loop.
final class Call: UpstreamResponseDelegate {
    unowned let handler: HTTPGatewayHandler
    let endpoint: Endpoint
    let pathModel: String?
    /// Held here, not read through `handler`: a store that answers later (Redis) may complete
    /// an admission after the client left and its handler is gone, and the reservation must
    /// still be settled.
    let gateway: GatewayContext

    var machine = CallStateMachine()
    /// The record went to the sinks.
    var completed = false
    var attempt: AttemptStateMachine?
    /// Numbers attempts, so a late connect result of an abandoned attempt is ignored.
    var attemptSerial = 0

    var request: CallRequest?
    var session: RoutingSession?
    var routed: RoutedDeployment?
    var prepared: PreparedCall?
    /// Capacity held in the state store for the current attempt's deployment.
    var reservation: Reservation?
    var connection: UpstreamConnection?
    /// Whether the current attempt's connection came from the pool (it may have gone stale).
    var connectionReused = false
    /// Stale keep-alive retries made (at most one per deployment pick).
    var staleRetries = 0
    var callID = ""
    /// When the current attempt times out (uptime nanoseconds), while armed in the loop's
    /// ``AttemptDeadlines``; `deadlineSlot` is its place there (-1: not armed).
    var deadline: UInt64 = 0
    var deadlineSlot = -1

    // What the record needs.
    var current: AttemptRecord?
    var firstAttempt: AttemptRecord?
    var laterAttempts: [AttemptRecord] = []
    var failure: UpstreamFailure?
    /// Set when the call ends failed (an error answer, a stream cut by an error, a client gone).
    var outcomeFailure: UpstreamFailure?
    var usage: TokenUsage?
    /// The last upstream head's rate-limit headers (kept here: `attempt` is busy while it emits).
    var rateLimit: RateLimitHeaders?
    var mocked = false
    var answeredStatus = 0
    /// The JSON answered (kept for the record only when a sink needs bodies).
    var answerBody: ByteBuffer?
    /// The events streamed (kept for the record only when a sink needs bodies, capped).
    var streamedEvents: ByteBuffer?

    // Timing, in uptime nanoseconds.
    let receivedAt = NIODeadline.now().uptimeNanoseconds
    var attemptStartedAt: UInt64 = 0
    var sentAt: UInt64 = 0
    /// Stream progress: when the upstream last sent bytes (or the attempt started).
    var lastProgressAt: UInt64 = 0
    var firstByteAt: UInt64 = 0
    /// Time spent waiting on upstreams (all attempts), for the overhead figure.
    var upstreamWait: UInt64 = 0

    init(handler: HTTPGatewayHandler, endpoint: Endpoint, pathModel: String?) {
        self.handler = handler
        gateway = handler.gateway
        self.endpoint = endpoint
        self.pathModel = pathModel
    }

    // MARK: Start

    func start(body: ByteBuffer) {
        callID = handler.loop.makeCallID()
        do throws(OpenAIError) {
            let request = try CallRequest.parse(body, endpoint: endpoint, pathModel: pathModel)
            guard let group = gateway.router.resolve(request.model) else {
                throw .badRequest(
                    "Invalid model name passed in model=\(request.model). Call `/v1/models` to view available models for your key.",
                    param: "model")
            }
            self.request = request
            session = RoutingSession(
                group: group, policy: gateway.policy, retries: request.numRetries,
                requestFallbacks: request.disableFallbacks ? [] : request.fallbacks)
        } catch {
            refuse(error)
            return
        }
        guard case .startAttempt(let reason) = machine.start() else { return }
        route(reason)
    }

    // MARK: Attempts

    func startAttempt(_ reason: AttemptRecord.Reason) {
        guard let prepared else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        attemptSerial += 1
        attempt = AttemptStateMachine(translator: prepared.makeTranslator(), maxBodyBytes: gateway.maxUpstreamBodyBytes)
        beginRecord(reason, at: now)
        armDeadline(in: prepared.timeout, from: now)
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

    /// Opens the record of an attempt on the routed deployment.
    func beginRecord(_ reason: AttemptRecord.Reason, at now: UInt64) {
        guard let routed else { return }
        var record = AttemptRecord(deploymentID: routed.deployment.id, deploymentIndex: routed.slot, reason: reason)
        record.startNanoseconds = now &- receivedAt
        current = record
        attemptStartedAt = now
        lastProgressAt = now
        handler.loop.stats.attemptStarted(routed.slot)
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
        if gateway.recordsBodies { keepStreamed(bytes) }
        handler.writeStreamChunk(bytes)
    }

    /// Keeps a stream's events for the record (up to 1 MiB).
    func keepStreamed(_ bytes: ByteBuffer) {
        guard (streamedEvents?.readableBytes ?? 0) < 1 << 20 else { return }
        if streamedEvents == nil { streamedEvents = ByteBuffer() }
        streamedEvents?.writeImmutableBuffer(bytes)
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
            if gateway.recordsBodies { answerBody = body }
            handler.writeJSON(status: HTTPResponseStatus(statusCode: status), body, meta: metadata())
            complete()
        case .streamEnded:
            finishAttempt(failure: nil)
            switch machine.streamEnded() {
            case .endStream:
                answeredStatus = 200
                handler.writeStreamEnd()
            case .writeStreamHead:
                answeredStatus = 200
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
            attemptFailed(failure, beforeFirstByte: beforeFirstByte)
        }
    }

    /// A pooled keep-alive connection that the upstream had closed is retried once on a fresh
    /// connection, on the same deployment and reservation; not a router retry.
    func isStaleConnection(_ failure: UpstreamFailure, beforeFirstByte: Bool) -> Bool {
        guard beforeFirstByte, case .connection = failure, connectionReused, staleRetries == 0 else { return false }
        return true
    }

    func perform(_ action: CallStateMachine.Action) {
        switch action {
        case .none, .writeStreamHead, .writeAnswer, .endStream:
            break
        case .startAttempt(let reason):
            route(reason)
        case .writeFailure:
            let answer = FailureAnswer(failure ?? .malformed("no answer"), group: session?.group.name ?? "", apiBase: prepared?.plan.apiBase ?? "")
            answeredStatus = answer.status
            outcomeFailure = failure
            firstByteAt = NIODeadline.now().uptimeNanoseconds
            answer.write(to: handler, meta: metadata())
            complete()
        case .endStreamWithError:
            let answer = FailureAnswer(failure ?? .malformed("no answer"), group: session?.group.name ?? "", apiBase: prepared?.plan.apiBase ?? "")
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

    /// Closes the current attempt's record (and its connection and deadline).
    func finishAttempt(failure: UpstreamFailure?) {
        handler.loop.deadlines.disarm(self)
        guard var record = current else { return }
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
        } else if failure == nil, let translator = attempt?.translator, let request {
            usage = .estimate(promptBytes: request.body.readableBytes, completionBytes: translator.contentBytes)
        }
        handler.loop.stats.attemptEnded(record.deploymentIndex)
        if failure == nil { settle(success: record) }
    }

    func cancelAttempt() {
        attempt?.cancel()
        connection?.cancel()
        connection = nil
        if current != nil { finishAttempt(failure: failure ?? .clientGone) }
        settleNeutral()
    }

    // MARK: Timeouts

    func armDeadline(in seconds: Double, from now: UInt64) {
        let nanos = UInt64(min(max(seconds, 0.001), 86_400) * 1e9)
        handler.loop.deadlines.arm(self, at: now &+ nanos)
    }

    /// A plain attempt's `timeout` bounds the whole attempt. A stream's `stream_timeout` bounds
    /// the wait for its first event and every silence after: the deadline re-arms for what is left
    /// since the last bytes, so a healthy stream never times out. A timeout is a failure like
    /// any other: before the first byte it may be retried or fall back.
    func deadlineFired() {
        guard let prepared, !machine.isDone, current != nil else { return }
        let limit = prepared.timeout
        if prepared.stream {
            let now = NIODeadline.now().uptimeNanoseconds
            let silent = now &- lastProgressAt
            let limitNanos = UInt64(limit * 1e9)
            if silent < limitNanos {
                armDeadline(in: Double(limitNanos - silent) / 1e9, from: now)
                return
            }
        }
        let streaming = attempt?.hasEmitted ?? false
        let f: UpstreamFailure = streaming ? .streamSilence(seconds: limit) : .timeout(seconds: limit)
        attempt?.cancel()
        connection?.cancel()
        connection = nil
        if !streaming { upstreamWait &+= NIODeadline.now().uptimeNanoseconds &- max(sentAt, attemptStartedAt) }
        finishAttempt(failure: f)
        attemptFailed(f, beforeFirstByte: !streaming)
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

    /// The call is over: its deadline is disarmed and the record goes to the loop's sinks.
    /// Idempotent: the handler completes the call just before it flushes the answer's last
    /// bytes (so a scrape made right after the answer counts it); the call's own later call is
    /// then a no-op.
    func complete() {
        guard !completed else { return }
        completed = true
        handler.loop.deadlines.disarm(self)
        let now = NIODeadline.now().uptimeNanoseconds
        let total = now &- receivedAt
        // Bodies are slices, not copies: the sinks that log them are done with them by the end
        // of this tick (``CallRecord/requestBody``). One expression, not a `var` set afterwards,
        // and handed to the last sink: ≈ 9 retains a call fewer (`counts.sh`).
        let bodies = gateway.recordsBodies
        let record = CallRecord(
            callID: callID, route: endpoint.recordRoute, modelGroup: session?.group.name,
            deploymentID: routed?.deployment.id, firstAttempt: firstAttempt, laterAttempts: laterAttempts,
            status: answeredStatus, failure: outcomeFailure,
            stream: request?.stream ?? false, mocked: mocked, caller: gateway.masterKey == nil ? .anonymous : .masterKey,
            timeToFirstByteNanoseconds: firstByteAt == 0 ? 0 : firstByteAt &- receivedAt, totalNanoseconds: total,
            overheadNanoseconds: total &- min(total, upstreamWait), usage: usage,
            requestBody: bodies ? request?.body : nil, requestMembers: bodies ? request?.scan : nil,
            responseBody: bodies ? answerBody : nil, streamedEvents: bodies ? streamedEvents : nil)
        // Every sink but the last borrows the record; the last is handed it (a loop's sinks
        // start with its deployment stats table: never empty).
        let sinks = handler.loop.sinks
        for sink in sinks.dropLast() { sink.record(record) }
        sinks[sinks.count - 1].take(consume record)
    }

    // MARK: Headers

    func metadata() -> ResponseMetadata {
        let now = NIODeadline.now().uptimeNanoseconds
        let total = now &- receivedAt
        let wait = current == nil ? upstreamWait : upstreamWait &+ (sentAt == 0 ? 0 : now &- sentAt)
        return ResponseMetadata(
            callID: callID, modelID: routed?.deployment.id, group: session?.group.name, apiBase: prepared?.plan.apiBase,
            totalNanoseconds: total, overheadNanoseconds: total &- min(total, wait),
            attemptedRetries: (session?.retries ?? 0) + staleRetries, attemptedFallbacks: session?.fallbacks ?? 0,
            rateLimit: rateLimit)
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
