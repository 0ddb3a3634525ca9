import CloudAuth
import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// Amazon SageMaker endpoints (`sagemaker/<endpoint name>`) running Hugging Face's TGI
/// container, called with InvokeEndpoint and signed with AWS Signature V4 (service `sagemaker`).
///
/// - Endpoint: `https://runtime.sagemaker.{region}.amazonaws.com`, or `api_base` /
///   `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME` / `AWS_ENDPOINT_URL`.
/// - Chat: `POST /endpoints/{name}/invocations` with `{"inputs": prompt, "parameters": {...}}`;
///   the prompt is the deployment's prompt template applied to the messages (LiteLLM's
///   `custom_prompt`), else the message contents joined with spaces (LiteLLM's default).
///   Streams use `/invocations-response-stream` (`"stream": true`). Text completions are refused (400).
/// - Embeddings: `{"text_inputs": [...]}` → `{"embedding": [[...]]}` (the GPT-J container).
public struct SageMakerProvider: Provider {
    let environment: AWSEnvironment

    public init(environment: [String: String]) {
        self.environment = AWSEnvironment(environment, endpointService: "SAGEMAKER_RUNTIME")
    }

    public var name: String { "sagemaker" }

    func settings(_ deployment: Deployment) throws(OpenAIError) -> AWSDeploymentSettings {
        try AWSDeploymentSettings.resolve(
            deployment, environment: environment, endpointKeys: ["api_base"],
            defaultHost: { "runtime.sagemaker.\($0).amazonaws.com" })
    }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        guard !model.isEmpty else { throw .badRequest("Deployment '\(deployment.modelName)' names no SageMaker endpoint after 'sagemaker/'.") }
        let s = try settings(deployment)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: s.url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        let shown = PlanHeaders.shownBase(s.url.target, path: s.url.path)
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: model, url: s.url, headers: headers, apiBase: shown)
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        let body: ByteBuffer
        var action = "invocations"
        var accept = "application/json"
        switch call.endpoint {
        case .completions:
            throw .badRequest("SageMaker endpoints are called through /v1/chat/completions; text completions are not supported for '\(plan.deployment.modelName)'.")
        case .chatCompletions:
            body = try SageMakerTGIRequest.body(call, params: plan.deployment.params)
            if call.stream {
                action = "invocations-response-stream"
                accept = "application/vnd.amazon.eventstream"
            }
        case .embeddings:
            body = try SageMakerTGIRequest.embeddingBody(call)
        }
        let uri = plan.basePath + "/endpoints/" + AWSSigV4.uriEncode(plan.upstreamModel, keepSlash: false) + "/" + action
        let (credentials, region) = try AWSDeploymentSettings.identity(plan.deployment, environment: environment)
        let signer = AWSSigV4(credentials: credentials, region: region, service: "sagemaker")
        var list: HTTPHeadersList = plan.headers.map { ($0.name, $0.value) }
        list.append(("Accept", accept))
        let signed = AWSDeploymentSettings.signedHeaders(list, uri: uri, target: plan.target, body: body, signer: signer)
        return UpstreamRequest(target: plan.target, uri: uri, headers: HTTPHeaders(signed.map { ($0.name, $0.value) }), body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        SageMakerResponseTranslator(
            endpoint: call.endpoint, model: plan.upstreamModel, streaming: call.stream && call.endpoint != .embeddings,
            includeUsage: call.clientWantsUsage)
    }
}
