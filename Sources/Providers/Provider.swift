import CallModel
import NIOCore
import NIOHTTP1
import OpenAIWire
import SwitchboardConfig

/// One request to one deployment, as the server hands it to a provider.
public struct ProviderCall {
    public var endpoint: Endpoint
    /// The client's JSON body and its scan.
    public var body: ByteBuffer
    public var scan: JSONObjectScan
    public var stream: Bool
    /// `litellm_settings.drop_params`.
    public var dropParams: Bool

    /// Whether the client asked for the usage chunk (`stream_options.include_usage`).
    public var clientWantsUsage: Bool

    public init(endpoint: Endpoint, body: ByteBuffer, scan: JSONObjectScan, stream: Bool, dropParams: Bool) {
        self.endpoint = endpoint
        self.body = body
        self.scan = scan
        self.stream = stream
        self.dropParams = dropParams
        clientWantsUsage = stream && (scan.value("stream_options", in: body)?["include_usage"]?.boolValue ?? false)
    }
}

/// A deployment made ready to call: everything that does not change between requests,
/// computed once (URL parsed, credentials chosen, static headers built).
public final class DeploymentPlan: Sendable {
    public let provider: any Provider
    public let deployment: Deployment
    /// The model name the provider expects (prefix removed: `gpt-4o` for `openai/gpt-4o`).
    public let upstreamModel: String
    public let target: UpstreamTarget
    /// The `api_base` path (`/v1`), without a trailing slash.
    public let basePath: String
    /// `api_base`'s query string, without `?`.
    public let baseQuery: String
    /// Headers sent with every request (Host, auth, organization, extra_headers).
    public let headers: HTTPHeaders
    /// The api_base shown to clients (`x-litellm-model-api-base`), without credentials.
    public let apiBase: String
    /// Problems found while preparing (e.g. an unusable extra header), to log once.
    public let warnings: [String]
    /// `basePath` + each endpoint's OpenAI path + `baseQuery`, built once (not per request).
    private let openAIURIs: (chat: String, completions: String, embeddings: String)

    /// The request URI of `endpoint` on an OpenAI-compatible `api_base`.
    public func openAIURI(_ endpoint: Endpoint) -> String {
        switch endpoint {
        case .chatCompletions: return openAIURIs.chat
        case .completions: return openAIURIs.completions
        case .embeddings: return openAIURIs.embeddings
        }
    }

    public init(provider: any Provider, deployment: Deployment, upstreamModel: String, url: UpstreamURL, headers: HTTPHeaders, apiBase: String, warnings: [String] = []) {
        self.provider = provider
        self.deployment = deployment
        self.upstreamModel = upstreamModel
        self.target = url.target
        self.basePath = url.path
        self.baseQuery = url.query
        self.headers = headers
        self.apiBase = apiBase
        self.warnings = warnings
        let query = url.query.isEmpty ? "" : "?" + url.query
        openAIURIs = (url.path + Endpoint.chatCompletions.pathSuffix + query,
                      url.path + Endpoint.completions.pathSuffix + query,
                      url.path + Endpoint.embeddings.pathSuffix + query)
    }
}

/// Translates between OpenAI's API and one provider's wire format.
///
/// One provider per file. A provider never routes and never touches a socket: it builds
/// requests and translates answers, so it can be tested without a network.
public protocol Provider: Sendable {
    /// The `litellm_params.model` prefix, e.g. `openai`.
    var name: String { get }

    /// Prepares `deployment` for calls to `model` (the provider's model name, prefix removed).
    func plan(_ deployment: Deployment, model: String) throws(OpenAIError) -> DeploymentPlan

    /// Builds the upstream request for one call.
    func makeRequest(_ call: ProviderCall, plan: DeploymentPlan) throws(OpenAIError) -> UpstreamRequest

    /// A translator for the answer to one attempt of `call`.
    func makeTranslator(_ call: ProviderCall, plan: DeploymentPlan) -> any ResponseTranslator
}
