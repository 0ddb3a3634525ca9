/// Every family the gateway exports. LiteLLM's names and label names come first (dashboards
/// built for LiteLLM keep working); Switchboard's own follow under the same `litellm_` prefix.
extension MetricFamily {
    /// Labels of a call as the client saw it.
    static let requestLabels = ["requested_model", "model_group", "model_id", "api_provider", "status_code", "route", "hashed_api_key"]
    static let failureLabels = ["requested_model", "model_group", "model_id", "api_provider", "exception_status", "exception_class", "route", "hashed_api_key"]
    /// Labels of a call that reached a deployment.
    static let llmLabels = ["requested_model", "model_group", "model", "model_id", "api_provider", "hashed_api_key"]
    /// Labels of one attempt against a deployment.
    static let deploymentLabels = ["litellm_model_name", "model_id", "api_base", "api_provider", "requested_model"]
    static let deploymentFailureLabels = deploymentLabels + ["exception_status", "exception_class"]
    static let fallbackLabels = ["requested_model", "fallback_model", "hashed_api_key"]
    /// Labels of a per-deployment gauge.
    static let gaugeLabels = ["model_group", "litellm_model_name", "model_id", "api_base", "api_provider"]

    private static func family(_ name: String, _ kind: Kind, _ labels: [String], scale: Double = 1, _ help: String) -> MetricFamily {
        MetricFamily(id: 0, name: name, help: help, kind: kind, labels: labels, scale: scale)
    }

    /// The catalog, ids assigned by position.
    public static let all: [MetricFamily] = {
        let list: [MetricFamily] = [
            family("litellm_proxy_total_requests_metric", .counter, requestLabels, "Requests answered by the proxy, by status"),
            family("litellm_proxy_failed_requests_metric", .counter, failureLabels, "Requests answered with an error"),
            family("litellm_requests_metric", .counter, llmLabels, "Calls that reached a deployment"),
            family("litellm_input_tokens_metric", .counter, llmLabels, "Input (prompt) tokens"),
            family("litellm_output_tokens_metric", .counter, llmLabels, "Output (completion) tokens"),
            family("litellm_total_tokens_metric", .counter, llmLabels, "Input plus output tokens"),
            family("litellm_spend_metric", .counter, llmLabels, scale: 1e-9, "Spend in USD (model_info input/output_cost_per_token)"),
            family("litellm_request_total_latency_metric", .histogram, llmLabels, scale: 1e-9, "Whole request time in seconds"),
            family("litellm_llm_api_latency_metric", .histogram, llmLabels, scale: 1e-9, "Time of the answering upstream call in seconds"),
            family("litellm_llm_api_time_to_first_token_metric", .histogram, llmLabels, scale: 1e-9, "Time to the first token of a stream in seconds"),
            family("litellm_overhead_latency_metric", .histogram, llmLabels, scale: 1e-9, "The gateway's own time in seconds (total minus upstream waiting)"),
            family("litellm_deployment_total_requests", .counter, deploymentLabels, "Attempts against a deployment"),
            family("litellm_deployment_success_responses", .counter, deploymentLabels, "Successful attempts against a deployment"),
            family("litellm_deployment_failure_responses", .counter, deploymentFailureLabels, "Failed attempts against a deployment"),
            family("litellm_deployment_successful_fallbacks", .counter, fallbackLabels, "Calls answered by a fallback model group"),
            family("litellm_deployment_failed_fallbacks", .counter, fallbackLabels, "Calls whose fallbacks failed too"),
            family("litellm_call_retries_metric", .counter, llmLabels, "Retries (attempts after the first in the same call, fallbacks excluded)"),
            family("litellm_in_flight_requests", .gauge(.sum), [], "Model calls in flight across the workers"),
            family("litellm_deployment_in_flight_requests", .gauge(.sum), gaugeLabels, "Attempts in flight per deployment"),
            family("litellm_deployment_rpm_used", .gauge(.sum), gaugeLabels, "Requests admitted in the last 60 seconds"),
            family("litellm_deployment_tpm_used", .gauge(.sum), gaugeLabels, "Tokens counted in the last 60 seconds"),
            family("litellm_deployment_rpm_limit", .gauge(.max), gaugeLabels, "The deployment's rpm limit (absent: none)"),
            family("litellm_deployment_tpm_limit", .gauge(.max), gaugeLabels, "The deployment's tpm limit (absent: none)"),
            family("litellm_deployment_state", .gauge(.max), gaugeLabels, "0 healthy, 2 cooling down (outage)"),
            family("litellm_workers", .gauge(.sum), [], "Worker processes serving this gateway (live slots)"),
            family("litellm_metrics_dropped_series_metric", .counter, [], "Series not recorded because a worker's slot was full"),
            family("litellm_callback_dropped_events_metric", .counter, ["callback"], "Callback events dropped because the callback's queue was full"),
            family("litellm_callback_failed_deliveries_metric", .counter, ["callback"], "Callback deliveries (POSTs) that failed; temporary failures are retried"),
        ]
        return list.enumerated().map { n, f in
            MetricFamily(id: n, name: f.name, help: f.help, kind: f.kind, labels: f.labels, scale: f.scale)
        }
    }()

    /// Looks a family up by name (startup only).
    public static func named(_ name: String) -> MetricFamily {
        guard let f = all.first(where: { $0.name == name }) else { preconditionFailure("no metric family \(name)") }
        return f
    }
}
