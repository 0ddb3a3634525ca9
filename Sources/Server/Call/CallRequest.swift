import NIOCore
import OpenAIWire
import Providers
import Tokenizers

/// What the gateway reads of a model call's body: the body is scanned (validated, members
/// located) and only the members that steer the call are decoded. A class, so the call object
/// that holds it stays small (one pointer, not the whole request).
final class CallRequest {
    let endpoint: Endpoint
    let body: ByteBuffer
    let scan: JSONObjectScan
    /// The requested model (from the path for Azure-style routes, else the body).
    let model: String
    let stream: Bool
    /// `mock_response` from the body; `null` counts as absent.
    let mock: JSONValue?
    /// The request's own `timeout`, in seconds, when positive.
    let timeout: Double?
    /// Whether the client asked for the usage chunk (`stream_options.include_usage`).
    let clientWantsUsage: Bool
    /// The request's `num_retries`.
    let numRetries: Int?
    /// The request's `fallbacks` (model names, or `{"model": ...}` objects).
    let fallbacks: [String]?
    let disableFallbacks: Bool
    /// `mock_testing_fallbacks: true`: the first group fails, so its fallbacks are exercised.
    let mockTestingFallbacks: Bool
    /// `max_tokens` / `max_completion_tokens`.
    let maxTokens: Int?
    /// The prompt's tokens as a deployment's tokenizer counted them (once per call).
    var countedPromptTokens: Int?

    init(
        endpoint: Endpoint, body: ByteBuffer, scan: JSONObjectScan, model: String, stream: Bool, mock: JSONValue?,
        timeout: Double?, clientWantsUsage: Bool, numRetries: Int?, fallbacks: [String]?, disableFallbacks: Bool,
        mockTestingFallbacks: Bool, maxTokens: Int?
    ) {
        self.endpoint = endpoint
        self.body = body
        self.scan = scan
        self.model = model
        self.stream = stream
        self.mock = mock
        self.timeout = timeout
        self.clientWantsUsage = clientWantsUsage
        self.numRetries = numRetries
        self.fallbacks = fallbacks
        self.disableFallbacks = disableFallbacks
        self.mockTestingFallbacks = mockTestingFallbacks
        self.maxTokens = maxTokens
    }

    /// About four bytes a token.
    var promptTokenEstimate: Int { max(1, body.readableBytes / 4) }

    /// The prompt's tokens with `tokenizer`: chat `messages`, a completion `prompt` or an
    /// embeddings `input`.
    func countPromptTokens(_ tokenizer: any TokenCounting) -> Int {
        switch endpoint {
        case .chatCompletions:
            return PromptTokenCount.messages(scan.value("messages", in: body)?.arrayValue ?? [], tokenizer)
        case .completions:
            return scan.value("prompt", in: body).map { PromptTokenCount.prompt($0, tokenizer) } ?? 0
        case .embeddings:
            return scan.value("input", in: body).map { PromptTokenCount.prompt($0, tokenizer) } ?? 0
        }
    }

    /// Tokens reserved against tpm before the call: the prompt estimate plus `max_tokens`.
    var tokenEstimate: Int { promptTokenEstimate + (maxTokens ?? 0) }

    static func parse(_ body: ByteBuffer, endpoint: Endpoint, pathModel: String?) throws(OpenAIError) -> CallRequest {
        let scan: JSONObjectScan
        do throws(JSONSyntaxError) {
            scan = try JSONScanner.scanObject(body)
        } catch {
            throw .badRequest("Invalid JSON in request body: \(error.description).")
        }
        let model = try requestedModel(scan, body, pathModel: pathModel)
        try RequestValidation.check(endpoint, scan, body)
        let stream = endpoint != .embeddings && (scan.bool("stream", in: body) ?? false)
        var mock = scan.value("mock_response", in: body)
        if mock?.isNull == true { mock = nil }
        let timeout = scan.value("timeout", in: body)?.doubleValue.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        let wantsUsage = stream && (scan.value("stream_options", in: body)?["include_usage"]?.boolValue ?? false)
        let numRetries = scan.value("num_retries", in: body)?.intValue.flatMap { $0 >= 0 ? $0 : nil }
        var fallbacks: [String]?
        if let list = scan.value("fallbacks", in: body)?.arrayValue {
            fallbacks = list.compactMap { $0.stringValue ?? $0["model"]?.stringValue }
        }
        let maxTokens = (scan.value("max_tokens", in: body) ?? scan.value("max_completion_tokens", in: body))?.intValue
        return CallRequest(
            endpoint: endpoint, body: body, scan: scan, model: model, stream: stream, mock: mock, timeout: timeout,
            clientWantsUsage: wantsUsage, numRetries: numRetries, fallbacks: fallbacks,
            disableFallbacks: scan.bool("disable_fallbacks", in: body) ?? false,
            mockTestingFallbacks: scan.bool("mock_testing_fallbacks", in: body) ?? false,
            maxTokens: maxTokens.flatMap { $0 > 0 ? $0 : nil })
    }

    private static func requestedModel(_ scan: JSONObjectScan, _ body: ByteBuffer, pathModel: String?) throws(OpenAIError) -> String {
        if let pathModel { return pathModel }
        guard let i = scan.index(of: "model", in: body) else {
            throw .badRequest("Missing required parameter: 'model'. Pass one of the names listed by `/v1/models`.", param: "model")
        }
        guard let model = scan.value(at: i, in: body).stringValue, !model.isEmpty else {
            throw .badRequest("'model' must be a non-empty string.", param: "model")
        }
        return model
    }

    /// How many inputs an embeddings request carries (a list of strings or of token lists).
    var embeddingInputs: Int {
        guard endpoint == .embeddings, let input = scan.value("input", in: body), case .array(let items) = input,
              !items.isEmpty, !items.allSatisfy({ $0.intValue != nil }) else { return 1 }
        return items.count
    }
}
