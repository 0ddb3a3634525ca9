import CallModel
import NIOCore
import OpenAIWire
import Providers
import Routing

/// A call made ready for its attempts against one deployment: the plan, the upstream request
/// (built once, reused by every attempt on that deployment) and the timeout that applies.
struct PreparedCall {
    let plan: DeploymentPlan
    /// The deployment's row in the loop's ``DeploymentStatsTable``.
    let slot: Int
    let providerCall: ProviderCall
    let request: UpstreamRequest
    var stream: Bool { providerCall.stream }
    /// Seconds: the whole call's `timeout`, or for a stream the `stream_timeout` that bounds
    /// the first event and every silence.
    let timeout: Double

    init(request call: CallRequest, routed: RoutedDeployment, gateway: GatewayContext) throws(OpenAIError) {
        plan = try gateway.plan(for: routed)
        slot = routed.slot
        providerCall = ProviderCall(endpoint: call.endpoint, body: call.body, scan: call.scan, stream: call.stream, dropParams: gateway.dropParams)
        request = try plan.provider.makeRequest(providerCall, plan: plan)
        let p = routed.deployment.params
        if let t = call.timeout {
            timeout = t
        } else if call.stream {
            timeout = p.streamTimeout ?? p.timeout ?? gateway.streamTimeout
        } else {
            timeout = p.timeout ?? gateway.requestTimeout
        }
    }

    func makeTranslator() -> any ResponseTranslator {
        plan.provider.makeTranslator(providerCall, plan: plan)
    }
}
