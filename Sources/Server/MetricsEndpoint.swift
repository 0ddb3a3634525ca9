import Metrics
import NIOCore

/// `GET /metrics`: the whole gateway in Prometheus text, read from the shared region (every
/// worker's slot), whichever worker the scrape reached.
enum MetricsEndpoint {
    static func body(_ gateway: GatewayContext) -> ByteBuffer {
        gateway.metricsGauges.publish(inFlightCalls: gateway.inFlight)
        let text = PrometheusText.render(MetricsSnapshot(region: gateway.metricsSlot.region))
        return ByteBuffer(string: text)
    }

    /// The 401 message LiteLLM gives, naming the setting that opens the endpoint.
    static func unauthorized(_ error: String) -> String {
        "Unauthorized access to metrics endpoint: \(error) To allow unauthenticated access, set `litellm_settings.require_auth_for_metrics_endpoint: false` in your proxy_config.yaml."
    }
}
