import NIOCore
import NIOPosix
import OpenAIWire

/// An Azure OpenAI resource on a loopback port: `POST /openai/deployments/{deployment}/
/// {chat/completions|completions|embeddings}?api-version=…`, authenticated by the `api-key`
/// header (or `Authorization: Bearer` with the AD token), answering as Azure does: the model
/// the deployment runs (not the deployment's name), a first stream chunk with
/// `prompt_filter_results` and no choices, Azure's error bodies (401 with its message, 404
/// `DeploymentNotFound`, 400 content filter for a message containing ``filteredWord``).
public final class FakeAzureOpenAIServer: Sendable {
    /// A message containing this word is refused by the content filter.
    public static let filteredWord = "FILTER_ME"
    /// A message containing this word is refused as too long for the context window.
    public static let tooLongWord = "TOO_LONG"

    public let server: FakeOpenAIServer

    /// - Parameters:
    ///   - deployments: deployment name → the model it runs.
    ///   - streamDelay: the pause between stream events.
    public init(
        apiKey: String = "azure-key", adToken: String? = nil, deployments: [String: String] = ["gpt4o-eu": "gpt-4o-2024-08-06"],
        streamDelay: TimeAmount = .zero
    ) async throws {
        server = try await FakeOpenAIServer { request in
            FakeAzureOpenAIServer.answer(request, apiKey: apiKey, adToken: adToken, deployments: deployments, streamDelay: streamDelay)
        }
    }

    /// `http://127.0.0.1:PORT` (an Azure resource endpoint has no path).
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }

    static func error(_ status: Int, code: String, message: String, extra: String = "") -> FakeResponse {
        .json(status: status, body: #"{"error":{"code":"\#(code)","message":"\#(message)"\#(extra)}}"#)
    }

    static func answer(
        _ request: RecordedRequest, apiKey: String, adToken: String?, deployments: [String: String], streamDelay: TimeAmount
    ) -> FakeResponse {
        let authorized = request.header("api-key") == apiKey || (adToken != nil && request.header("authorization") == "Bearer \(adToken!)")
        guard authorized else {
            return .json(status: 401, body: #"{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}"#)
        }
        let parts = request.uri.split(separator: "?", maxSplits: 1)
        let path = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : ""
        guard request.method == "POST", path.hasPrefix("/openai/deployments/"), query.split(separator: "&").contains(where: { $0.hasPrefix("api-version=") }) else {
            return error(404, code: "404", message: "Resource not found")
        }
        let rest = path.dropFirst("/openai/deployments/".count)
        guard let slash = rest.firstIndex(of: "/") else { return error(404, code: "404", message: "Resource not found") }
        let deployment = String(rest[..<slash])
        let operation = String(rest[slash...])
        guard let model = deployments[deployment] else {
            return error(404, code: "DeploymentNotFound", message: "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
        }
        if request.body.contains(filteredWord) {
            return error(
                400, code: "content_filter",
                message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
                extra: #","param":"prompt","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}"#)
        }
        if request.body.contains(tooLongWord) {
            return .json(status: 400, body: #"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#)
        }
        var json = request.json
        // Answer with the model the deployment runs, as Azure does.
        if case .object(var members)? = json {
            members.removeAll { $0.key == "model" }
            members.append(JSONMember("model", .string(model)))
            json = .object(members)
        }
        var forwarded = request
        forwarded.body = json?.jsonText ?? request.body
        forwarded.uri = "/v1" + operation
        let standard = FakeOpenAIServer.standardResponse(forwarded)
        guard case .sse(var events, _) = standard else { return standard }
        events.insert(#"data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"# + "\n\n", at: 0)
        return .sse(events: events, delay: streamDelay)
    }
}
