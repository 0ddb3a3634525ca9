import CloudAuth
import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// Amazon Bedrock (`bedrock/<model id>`, also `bedrock/converse/<model id>`): chat through the
/// Converse and ConverseStream APIs, embeddings through InvokeModel (Titan and Cohere), every
/// request signed with AWS Signature V4 (service `bedrock`) for the host actually called.
///
/// - Endpoint: `https://bedrock-runtime.{region}.amazonaws.com`, or `api_base` /
///   `aws_bedrock_runtime_endpoint` / `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL`.
/// - Chat: `POST /model/{modelId}/converse` (`/converse-stream` for streams), the model id
///   URL-encoded (`:` → `%3A`).
/// - Embeddings: `POST /model/{modelId}/invoke`. Titan embeds one text per call, so a request
///   with several inputs is refused (400) rather than silently cut; Cohere takes a list.
/// - Text completions (`/v1/completions`) are refused (400): use chat completions.
public struct BedrockProvider: Provider {
    let environment: AWSEnvironment

    public init(environment: [String: String]) {
        self.environment = AWSEnvironment(environment, endpointService: "BEDROCK_RUNTIME")
    }

    public var name: String { "bedrock" }

    /// The model id Bedrock knows: `converse/` prefix removed.
    static func modelID(_ model: String) -> String {
        model.hasPrefix("converse/") ? String(model.dropFirst("converse/".count)) : model
    }

    func settings(_ deployment: Deployment) throws(OpenAIError) -> AWSDeploymentSettings {
        try AWSDeploymentSettings.resolve(
            deployment, environment: environment, endpointKeys: ["aws_bedrock_runtime_endpoint", "api_base"],
            defaultHost: { "bedrock-runtime.\($0).amazonaws.com" })
    }

    public func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan {
        let id = Self.modelID(model)
        guard !id.isEmpty else { throw .badRequest("Deployment '\(deployment.modelName)' names no Bedrock model id after 'bedrock/'.") }
        let s = try settings(deployment)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: s.url.target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        var warnings: [String] = []
        PlanHeaders.addExtraHeaders(deployment.params, to: &headers, warnings: &warnings)
        let shown = PlanHeaders.shownBase(s.url.target, path: s.url.path)
        return DeploymentPlan(provider: self, deployment: deployment, upstreamModel: id, url: s.url, headers: headers, apiBase: shown, warnings: warnings)
    }

    public func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest {
        let id = plan.upstreamModel
        let body: ByteBuffer
        let action: String
        var accept = "application/json"
        switch call.endpoint {
        case .chatCompletions:
            body = try BedrockConverseRequest.body(call, defaults: plan.deployment.params.requestDefaults)
            action = call.stream ? "converse-stream" : "converse"
            if call.stream { accept = "application/vnd.amazon.eventstream" }
        case .embeddings:
            body = try Self.embeddingBody(call, modelID: id)
            action = "invoke"
        case .completions:
            throw .badRequest("Bedrock models are called through /v1/chat/completions; text completions are not supported for '\(plan.deployment.modelName)'.")
        }
        let uri = plan.basePath + "/model/" + AWSSigV4.uriEncode(id, keepSlash: false) + "/" + action
        let (credentials, region) = try AWSDeploymentSettings.identity(plan.deployment, environment: environment)
        let signer = AWSSigV4(credentials: credentials, region: region, service: "bedrock")
        var list: HTTPHeadersList = plan.headers.map { ($0.name, $0.value) }
        list.append(("Accept", accept))
        let signed = AWSDeploymentSettings.signedHeaders(list, uri: uri, target: plan.target, body: body, signer: signer)
        return UpstreamRequest(target: plan.target, uri: uri, headers: HTTPHeaders(signed.map { ($0.name, $0.value) }), body: body)
    }

    public func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator {
        let operation: BedrockResponseTranslator.Operation
        switch call.endpoint {
        case .embeddings: operation = Self.isTitan(plan.upstreamModel) ? .titanEmbedding : .cohereEmbedding
        case .chatCompletions, .completions: operation = .converse
        }
        return BedrockResponseTranslator(
            operation: operation, model: plan.upstreamModel, streaming: call.stream && call.endpoint == .chatCompletions,
            includeUsage: call.clientWantsUsage)
    }

    static func isTitan(_ id: String) -> Bool { id.contains("titan-embed") }
    static func isCohere(_ id: String) -> Bool { id.contains("cohere.embed") }

    /// Titan: `{"inputText": "..."}` (+ `dimensions`); Cohere: `{"texts": [...], "input_type": "search_document"}`.
    static func embeddingBody(_ call: ProviderCall, modelID: String) throws(OpenAIError) -> ByteBuffer {
        let texts: [String]
        switch call.scan.value("input", in: call.body) {
        case .string(let s)?: texts = [s]
        case .array(let items)? where !items.isEmpty && items.allSatisfy({ $0.stringValue != nil }):
            texts = items.compactMap(\.stringValue)
        default:
            throw .badRequest("'input' must be a string or a non-empty list of strings for Bedrock embeddings", param: "input")
        }
        var body: [JSONMember]
        if isTitan(modelID) {
            guard texts.count == 1 else {
                throw .badRequest("Titan embeddings take one input per request (Bedrock embeds one text per call); send the \(texts.count) inputs as separate requests, or use a cohere.embed-* model for lists.", param: "input")
            }
            body = [JSONMember("inputText", .string(texts[0]))]
            if let d = call.scan.value("dimensions", in: call.body), d.intValue != nil { body.append(JSONMember("dimensions", d)) }
        } else if isCohere(modelID) {
            let inputType = call.scan.value("input_type", in: call.body)?.stringValue ?? "search_document"
            body = [JSONMember("texts", .array(texts.map { .string($0) })), JSONMember("input_type", .string(inputType))]
        } else {
            throw .badRequest("Bedrock embeddings are supported for amazon.titan-embed-* and cohere.embed-* models, not '\(modelID)'.", param: "model")
        }
        var out = ByteBuffer()
        out.writeJSON(.object(body))
        return out
    }
}
