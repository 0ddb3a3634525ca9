import CallModel
import Metrics

/// Records every finished call of one event loop into the worker's shared metrics slot.
///
/// O(1) per call: one dictionary lookup finds the call's cached series handles (the shared
/// entries are added under the slot's lock only the first time a label combination appears),
/// then relaxed atomic adds. No lock, no allocation in the common case.
final class MetricsSink: CallRecordSink {
    private let slot: MetricsSlot
    private let deployments: [DeploymentMetricLabels]
    /// Deployment id → slot.
    private let slots: [String: Int]
    private var calls: [CallKey: CallSeries] = [:]
    private var attempts: [AttemptKey: AttemptSeries] = [:]
    /// Bounds the caches (label values are bounded, but be safe against surprises).
    private let maxCached = 4096

    init(slot: MetricsSlot, deployments: [DeploymentMetricLabels]) {
        self.slot = slot
        self.deployments = deployments
        var slots: [String: Int] = [:]
        for (n, d) in deployments.enumerated() { slots[d.id] = n }
        self.slots = slots
    }

    struct CallKey: Hashable {
        var route: CallRecord.Route
        var group: String?
        var deployment: Int
        var status: Int
        var failure: String?
        var masterKey: Bool
    }

    struct CallSeries {
        var total: Series?
        var failed: Series?
        var llm: LLMSeries?
    }

    struct LLMSeries {
        var requests, input, output, tokens, spend, latency, api, ttft, overhead, retries: Series?
    }

    struct AttemptKey: Hashable {
        var deployment: Int
        var group: String?
        var failure: String?
        var status: Int
    }

    struct AttemptSeries {
        var total: Series?
        var outcome: Series?
    }

    func record(_ r: CallRecord) {
        // The last attempt's deployment index is its slot: no lookup by id (no string hashing).
        let deployment = (r.laterAttempts.last ?? r.firstAttempt)?.deploymentIndex ?? r.deploymentID.flatMap { slots[$0] } ?? -1
        let key = CallKey(route: r.route, group: r.modelGroup, deployment: deployment, status: r.status,
                          failure: r.failure?.name, masterKey: r.caller == .masterKey)
        let s = calls[key] ?? makeCall(key)
        s.total?.add(1)
        s.failed?.add(1)
        if let llm = s.llm {
            llm.requests?.add(1)
            if let usage = r.usage {
                llm.input?.add(UInt64(max(0, usage.promptTokens)))
                llm.output?.add(UInt64(max(0, usage.completionTokens)))
                llm.tokens?.add(UInt64(max(0, usage.promptTokens + usage.completionTokens)))
                let d = deployments[deployment]
                let nanoUSD = (Double(usage.promptTokens) * d.inputCost + Double(usage.completionTokens) * d.outputCost) * 1e9
                if nanoUSD >= 1 { llm.spend?.add(UInt64(nanoUSD)) }
            }
            llm.latency?.observe(nanoseconds: r.totalNanoseconds)
            llm.overhead?.observe(nanoseconds: r.overheadNanoseconds)
            if let last = r.laterAttempts.last ?? r.firstAttempt {
                llm.api?.observe(nanoseconds: last.durationNanoseconds)
                if r.stream && last.firstByteNanoseconds > 0 { llm.ttft?.observe(nanoseconds: last.firstByteNanoseconds) }
            }
            var retries: UInt64 = 0
            var fellBack = false
            for a in r.laterAttempts {
                if a.reason == .fallback { fellBack = true } else if a.reason == .retry { retries += 1 }
            }
            if retries > 0 { llm.retries?.add(retries) }
            if fellBack { recordFallback(r, deployment) }
        }
        if let a = r.firstAttempt {
            recordAttempt(a, r.modelGroup)
            for later in r.laterAttempts { recordAttempt(later, r.modelGroup) }
        }
    }

    private func recordAttempt(_ a: AttemptRecord, _ group: String?) {
        guard a.deploymentIndex >= 0 && a.deploymentIndex < deployments.count else { return }
        let key = AttemptKey(deployment: a.deploymentIndex, group: group, failure: a.failure?.name,
                             status: a.failure == nil ? 0 : a.upstreamStatus)
        let s = attempts[key] ?? makeAttempt(key)
        s.total?.add(1)
        s.outcome?.add(1)
    }

    private func recordFallback(_ r: CallRecord, _ deployment: Int) {
        let name = r.succeeded ? "litellm_deployment_successful_fallbacks" : "litellm_deployment_failed_fallbacks"
        slot.series(MetricFamily.named(name), [
            r.modelGroup ?? "other", deployment >= 0 ? deployments[deployment].modelName : "None",
            r.caller == .masterKey ? "litellm_proxy_master_key" : "None",
        ])?.add(1)
    }

    private func makeCall(_ key: CallKey) -> CallSeries {
        if calls.count >= maxCached { calls.removeAll() }
        let d = key.deployment >= 0 ? deployments[key.deployment] : nil
        let requested = key.group ?? "other"
        let group = key.group ?? "None"
        let apiKey = key.masterKey ? "litellm_proxy_master_key" : "None"
        let route = "/v1" + key.route.rawValue
        var s = CallSeries()
        s.total = slot.series(Families.total, [requested, group, d?.id ?? "None", d?.provider ?? "None", String(key.status), route, apiKey])
        if key.status >= 400 {
            s.failed = slot.series(Families.failed, [requested, group, d?.id ?? "None", d?.provider ?? "None",
                                                      String(key.status), key.failure ?? "None", route, apiKey])
        }
        if let d {
            let labels = [requested, group, d.model, d.id, d.provider, apiKey]
            s.llm = LLMSeries(
                requests: slot.series(Families.requests, labels), input: slot.series(Families.input, labels),
                output: slot.series(Families.output, labels), tokens: slot.series(Families.tokens, labels),
                spend: d.inputCost > 0 || d.outputCost > 0 ? slot.series(Families.spend, labels) : nil,
                latency: slot.series(Families.latency, labels), api: slot.series(Families.api, labels),
                ttft: slot.series(Families.ttft, labels), overhead: slot.series(Families.overhead, labels),
                retries: slot.series(Families.retries, labels))
        }
        calls[key] = s
        return s
    }

    private func makeAttempt(_ key: AttemptKey) -> AttemptSeries {
        if attempts.count >= maxCached { attempts.removeAll() }
        let d = deployments[key.deployment]
        let labels = [d.model, d.id, d.apiBase, d.provider, key.group ?? "other"]
        var s = AttemptSeries(total: slot.series(Families.deploymentTotal, labels))
        if let failure = key.failure {
            s.outcome = slot.series(Families.deploymentFailure, labels + [String(key.status), failure])
        } else {
            s.outcome = slot.series(Families.deploymentSuccess, labels)
        }
        attempts[key] = s
        return s
    }
}

/// The families the sink writes, looked up once.
enum Families {
    static let total = MetricFamily.named("litellm_proxy_total_requests_metric")
    static let failed = MetricFamily.named("litellm_proxy_failed_requests_metric")
    static let requests = MetricFamily.named("litellm_requests_metric")
    static let input = MetricFamily.named("litellm_input_tokens_metric")
    static let output = MetricFamily.named("litellm_output_tokens_metric")
    static let tokens = MetricFamily.named("litellm_total_tokens_metric")
    static let spend = MetricFamily.named("litellm_spend_metric")
    static let latency = MetricFamily.named("litellm_request_total_latency_metric")
    static let api = MetricFamily.named("litellm_llm_api_latency_metric")
    static let ttft = MetricFamily.named("litellm_llm_api_time_to_first_token_metric")
    static let overhead = MetricFamily.named("litellm_overhead_latency_metric")
    static let retries = MetricFamily.named("litellm_call_retries_metric")
    static let deploymentTotal = MetricFamily.named("litellm_deployment_total_requests")
    static let deploymentSuccess = MetricFamily.named("litellm_deployment_success_responses")
    static let deploymentFailure = MetricFamily.named("litellm_deployment_failure_responses")
    static let inFlight = MetricFamily.named("litellm_in_flight_requests")
    static let deploymentInFlight = MetricFamily.named("litellm_deployment_in_flight_requests")
    static let rpmUsed = MetricFamily.named("litellm_deployment_rpm_used")
    static let tpmUsed = MetricFamily.named("litellm_deployment_tpm_used")
    static let state = MetricFamily.named("litellm_deployment_state")
    static let rpmLimit = MetricFamily.named("litellm_deployment_rpm_limit")
    static let tpmLimit = MetricFamily.named("litellm_deployment_tpm_limit")
}
