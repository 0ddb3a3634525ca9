import CallModel
import NIOCore
import OpenAIWire
import Providers
import Routing

/// A call made ready for its attempts against one deployment: the plan, the upstream request
/// (built once, reused by every attempt on that deployment) and the timeout that applies.
final class PreparedCall {
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
        // Read in place: a copy of the params would retain every one of their strings.
        if let t = call.timeout {
            timeout = t
        } else if call.stream {
            timeout = routed.deployment.params.streamTimeout ?? routed.deployment.params.timeout ?? gateway.streamTimeout
        } else {
            timeout = routed.deployment.params.timeout ?? gateway.requestTimeout
        }
    }

    func makeTranslator() -> any ResponseTranslator {
        plan.provider.makeTranslator(providerCall, plan: plan)
    }
}
