import CallModel
import NIOCore
import OpenAIWire
import Providers
import Routing
import State

/// How a call asks the router for deployments, and what it does after a failed attempt.
extension Call {
    /// Ranks the current group's deployments, asks the store to admit the request on the first
    /// that can take it, then starts the attempt (or answers the mock).
    func route(_ reason: AttemptRecord.Reason) {
        guard session != nil, request != nil, !machine.isDone else { return }
        var candidates = gateway.ranking.rank(
            session!.group, store: gateway.store, stream: request!.stream, avoid: session!.failedInGroup, using: &handler.loop.random)
        if gateway.policy.preCallChecks {
            let prompt = promptTokens(candidates)
            candidates = candidates.filter { slot in
                guard let max = gateway.router.deploymentsBySlot[slot].modelInfo.maxInputTokens else { return true }
                return prompt <= max
            }
            if candidates.isEmpty {
                attemptFailed(.status(Self.contextWindowError(prompt: prompt, group: session!.group.name)), beforeFirstByte: true)
                return
            }
        }
        let tokens = gateway.tokenizers.hasCustom ? promptTokens(candidates) + (request!.maxTokens ?? 0) : request!.tokenEstimate
        let admission = Admission(candidates: candidates, tokens: tokens, enforceLimits: gateway.policy.enforceLimits)
        if let result = gateway.store.admitNow(admission) {
            admitted(result, reason)
            return
        }
        // The Redis store answers on this loop: no hop then.
        let bound = NIOLoopBound(self, eventLoop: handler.loop.pool.eventLoop)
        gateway.store.admit(admission) { result in
            if bound.eventLoop.inEventLoop {
                bound.value.admitted(result, reason)
            } else {
                bound.eventLoop.execute { bound.value.admitted(result, reason) }
            }
        }
    }

    /// The prompt's tokens: counted once with the tokenizer of the first candidate that has one
    /// loaded (`custom_tokenizer`), else the fast estimate (about four bytes a token). With no
    /// custom tokenizer configured this is the estimate and nothing else is looked at.
    func promptTokens(_ candidates: [Int]) -> Int {
        guard gateway.tokenizers.hasCustom else { return request!.promptTokenEstimate }
        if let counted = request!.countedPromptTokens { return counted }
        for slot in candidates {
            guard let tokenizer = gateway.tokenizers.loaded(slot: slot) else { continue }
            let counted = request!.countPromptTokens(tokenizer)
            request!.countedPromptTokens = counted
            return counted
        }
        return request!.promptTokenEstimate
    }

    func admitted(_ result: AdmissionResult, _ reason: AttemptRecord.Reason) {
        guard session != nil, request != nil, !machine.isDone else {
            if case .admitted(let r) = result { gateway.store.settle(Settlement(reservation: r, actualTokens: 0, outcome: .neutral)) }
            return
        }
        switch result {
        case .refused(let refusal):
            attemptFailed(.noDeploymentAvailable(reason: Self.describe(refusal, group: session!.group.name), retryAfter: refusal.retryAfter), beforeFirstByte: true)
        case .admitted(let reservation):
            self.reservation = reservation
            guard let routed = session!.group.routed(slot: reservation.deployment) else { return }
            self.routed = routed
            staleRetries = 0
            if request!.mockTestingFallbacks && session!.fallbacks == 0 {
                beginRecord(reason, at: NIODeadline.now().uptimeNanoseconds)
                let f = Self.simulated(OpenAIError(status: 500, message: "Mock InternalServerError raised by mock_testing_fallbacks", type: "internal_server_error"))
                finishAttempt(failure: f)
                attemptFailed(f, beforeFirstByte: true)
                return
            }
            if let mock = request!.mock ?? routed.deployment.params.mockResponse {
                answerMock(mock, reason: reason)
                return
            }
            do throws(OpenAIError) {
                prepared = try PreparedCall(request: request!, routed: routed, gateway: gateway)
            } catch {
                attemptFailed(.notCallable(status: error.status, type: error.type, message: error.message), beforeFirstByte: true)
                return
            }
            startAttempt(reason)
        }
    }

    /// After an attempt failed (its record closed): a stale pooled connection is retried at
    /// once; otherwise the store hears of the failure and the router decides what follows.
    func attemptFailed(_ failure: UpstreamFailure, beforeFirstByte: Bool) {
        self.failure = failure
        if isStaleConnection(failure, beforeFirstByte: beforeFirstByte), case .startAttempt = machine.attemptFailed(retry: .staleConnection) {
            staleRetries += 1
            startAttempt(.staleConnection)
            return
        }
        settle(failure: failure)
        guard beforeFirstByte, var session else {
            perform(machine.attemptFailed(retry: nil))
            return
        }
        let decision = session.next(after: failure, deployment: routed?.slot, resolve: gateway.router.resolve)
        self.session = session
        let reason: AttemptRecord.Reason
        var delay = 0.0
        switch decision {
        case .retry(let wait):
            reason = .retry
            delay = wait
        case .fallback:
            reason = .fallback
        case .giveUp:
            perform(machine.attemptFailed(retry: nil))
            return
        }
        guard case .startAttempt(let next) = machine.attemptFailed(retry: reason) else { return }
        routed = nil
        prepared = nil
        guard delay > 0 else {
            route(next)
            return
        }
        handler.loop.pool.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [self] in
            route(next)
        }
    }

    // MARK: The store

    func settle(success record: AttemptRecord) {
        guard let reservation else { return }
        self.reservation = nil
        let stream = request?.stream ?? false
        gateway.store.settle(Settlement(
            reservation: reservation, actualTokens: usage?.totalTokens, outcome: .success,
            latencyMilliseconds: stream ? 0 : Double(record.durationNanoseconds) / 1e6,
            timeToFirstTokenMilliseconds: stream ? Double(record.firstByteNanoseconds) / 1e6 : 0))
    }

    func settle(failure: UpstreamFailure) {
        guard let reservation else { return }
        self.reservation = nil
        let outcome: Settlement.Outcome
        // As LiteLLM does, a group's only deployment is never cooled down: there would be
        // nothing left to answer with.
        let alone = (session?.group.slots.count ?? 1) <= 1
        if failure.isDeploymentFault && gateway.policy.cooldownsEnabled && !alone {
            var retryAfter: Double?
            if case .status(let s) = failure { retryAfter = s.retryAfter }
            outcome = .failure(cooldownNow: gateway.policy.coolsAtOnce(failure), retryAfter: retryAfter)
        } else {
            outcome = .neutral
        }
        gateway.store.settle(Settlement(reservation: reservation, actualTokens: nil, outcome: outcome))
    }

    func settleNeutral() {
        guard let reservation else { return }
        self.reservation = nil
        gateway.store.settle(Settlement(reservation: reservation, actualTokens: nil, outcome: .neutral))
    }

    // MARK: Messages

    static func describe(_ r: Refusal, group: String) -> String {
        let seconds = r.retryAfter < 1 ? String(format: "%.2f", r.retryAfter) : String(Int(r.retryAfter.rounded(.up)))
        switch r.reason {
        case .coolingDown:
            return "No deployments available for model group '\(group)': all \(r.cooling) are cooling down after failures. Try again in \(seconds) s."
        case .rateLimited:
            var parts: [String] = []
            if r.atRequestLimit > 0 { parts.append("\(r.atRequestLimit) at their rpm limit") }
            if r.atTokenLimit > 0 { parts.append("\(r.atTokenLimit) at their tpm limit") }
            if r.cooling > 0 { parts.append("\(r.cooling) cooling down") }
            return "No deployments available for model group '\(group)': \(parts.joined(separator: ", ")). Try again in \(seconds) s."
        case .unavailable:
            return "No deployments available for model group '\(group)': the router's state store did not answer. Try again in \(seconds) s."
        }
    }

    /// A failure as an upstream with OpenAI's error shape would have given it.
    static func simulated(_ error: OpenAIError) -> UpstreamFailure {
        var body = ByteBuffer()
        error.writeBody(to: &body)
        let kind: UpstreamErrorKind
        switch error.type {
        case "context_window_exceeded": kind = .contextWindowExceeded
        case "content_policy_violation": kind = .contentPolicy
        default: kind = OpenAIErrorClassifier.byStatus(error.status)
        }
        return .status(UpstreamErrorStatus(status: error.status, kind: kind, body: body, clientBody: body, retryAfter: error.retryAfter.map(Double.init)))
    }

    static func contextWindowError(prompt: Int, group: String) -> UpstreamErrorStatus {
        let error = OpenAIError(
            status: 400, message: "The prompt (about \(prompt) tokens) is larger than the context window of every deployment of model group '\(group)' (enable_pre_call_checks).",
            type: "context_window_exceeded", param: "messages")
        guard case .status(let s) = simulated(error) else { fatalError("simulated always gives a status") }
        return s
    }
}
