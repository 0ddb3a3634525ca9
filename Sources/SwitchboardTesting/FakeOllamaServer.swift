import NIOCore
import NIOPosix
import OpenAIWire

/// An Ollama server on a loopback port: `POST /api/chat`, `/api/generate` and `/api/embed`
/// with Ollama's JSON, streams as NDJSON (`application/x-ndjson`, one object per line, `stream`
/// defaulting to true as Ollama's does, the last line `done: true` with `done_reason`,
/// `prompt_eval_count` and `eval_count`), `{"error": "model \"x\" not found, try pulling it
/// first"}` (404) for models it does not have. A chat with `tools` is answered with a call of
/// the first tool; a message containing ``streamErrorWord`` gets a stream that breaks off with
/// an error line.
public final class FakeOllamaServer: Sendable {
    public static let streamErrorWord = "STREAM_ERROR"
    public static let words = ["Hello", " from", " fake", " Ollama"]
    public static let promptEvalCount = 12
    public static let evalCount = 4

    public let server: FakeOpenAIServer

    /// - Parameters:
    ///   - models: the models it has.
    ///   - lineDelay: the pause between stream lines.
    public init(models: Set<String> = ["llama3.2"], lineDelay: TimeAmount = .zero) async throws {
        server = try await FakeOpenAIServer { request in FakeOllamaServer.answer(request, models: models, lineDelay: lineDelay) }
    }

    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }

    static let createdAt = "2024-07-22T20:33:28.123648Z"

    static func answer(_ request: RecordedRequest, models: Set<String>, lineDelay: TimeAmount) -> FakeResponse {
        guard request.method == "POST", ["/api/chat", "/api/generate", "/api/embed"].contains(request.uri) else {
            return .json(status: 404, body: "404 page not found")
        }
        guard let json = request.json, let model = json["model"]?.stringValue else {
            return .json(status: 400, body: #"{"error":"model is required"}"#)
        }
        guard models.contains(model) else {
            return .json(status: 404, body: #"{"error":"model \"\#(model)\" not found, try pulling it first"}"#)
        }
        switch request.uri {
        case "/api/embed":
            let inputs = json["input"]?.arrayValue ?? [json["input"] ?? .null]
            let vectors = inputs.indices.map { "[0.0\($0 + 1),-0.5,1e-3]" }.joined(separator: ",")
            return .json(status: 200, body: #"{"model":"\#(model)","embeddings":[\#(vectors)],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":\#(inputs.count * 4)}"#)
        case "/api/generate":
            return generate(json, model: model, lineDelay: lineDelay)
        default:
            return chat(json, model: model, lineDelay: lineDelay)
        }
    }

    static func counts(reason: String = "stop") -> String {
        #""done":true,"done_reason":"\#(reason)","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":\#(promptEvalCount),"prompt_eval_duration":342546000,"eval_count":\#(evalCount),"eval_duration":4535599000"#
    }

    static func chat(_ json: JSONValue, model: String, lineDelay: TimeAmount) -> FakeResponse {
        let stream = json["stream"]?.boolValue ?? true
        if let tool = json["tools"]?.arrayValue?.first?["function"]?["name"]?.stringValue {
            let message = #"{"role":"assistant","content":"","tool_calls":[{"function":{"name":"\#(tool)","arguments":{"city":"Paris","days":2}}}]}"#
            if stream {
                return .chunked(contentType: "application/x-ndjson", pieces: [
                    #"{"model":"\#(model)","created_at":"\#(createdAt)","message":\#(message),"done":false}"# + "\n",
                    #"{"model":"\#(model)","created_at":"\#(createdAt)","message":{"role":"assistant","content":""},\#(counts())}"# + "\n",
                ], delay: lineDelay)
            }
            return .json(status: 200, body: #"{"model":"\#(model)","created_at":"\#(createdAt)","message":\#(message),\#(counts())}"#)
        }
        guard stream else {
            return .json(status: 200, body: #"{"model":"\#(model)","created_at":"\#(createdAt)","message":{"role":"assistant","content":"\#(words.joined())"},\#(counts())}"#)
        }
        var lines = words.map { #"{"model":"\#(model)","created_at":"\#(createdAt)","message":{"role":"assistant","content":"\#($0)"},"done":false}"# + "\n" }
        if json.jsonText.contains(streamErrorWord) {
            lines = [lines[0], #"{"error":"an error was encountered while running the model: unexpected EOF"}"# + "\n"]
        } else {
            lines.append(#"{"model":"\#(model)","created_at":"\#(createdAt)","message":{"role":"assistant","content":""},\#(counts())}"# + "\n")
        }
        return .chunked(contentType: "application/x-ndjson", pieces: lines, delay: lineDelay)
    }

    static func generate(_ json: JSONValue, model: String, lineDelay: TimeAmount) -> FakeResponse {
        guard json["stream"]?.boolValue ?? true else {
            return .json(status: 200, body: #"{"model":"\#(model)","created_at":"\#(createdAt)","response":"\#(words.joined())","context":[1,2,3],\#(counts())}"#)
        }
        var lines = words.map { #"{"model":"\#(model)","created_at":"\#(createdAt)","response":"\#($0)","done":false}"# + "\n" }
        lines.append(#"{"model":"\#(model)","created_at":"\#(createdAt)","response":"","context":[1,2,3],\#(counts())}"# + "\n")
        return .chunked(contentType: "application/x-ndjson", pieces: lines, delay: lineDelay)
    }
}
