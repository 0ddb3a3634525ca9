import CloudAuth
import NIOCore
import OpenAIWire
import Providers

/// Bedrock Runtime's wire protocol on a ``FakeAWSServer`` (service `bedrock`): Converse
/// (`POST /model/{id}/converse`), ConverseStream (`/converse-stream`, binary event stream) and
/// InvokeModel embeddings (`/invoke`, Titan and Cohere bodies), SigV4 checked.
///
/// ```swift
/// let bedrock = try await FakeBedrockServer.start()
/// // litellm_params: {model: bedrock/anthropic.claude-3-haiku-20240307-v1:0, api_base: bedrock.endpointURL, ...}
/// ```
public enum FakeBedrockServer {
    public static func start(
        region: String = "us-east-1", credentials: AWSCredentials = FakeAWSServer.testCredentials,
        responder: @escaping @Sendable (RecordedRequest) -> FakeAWSResponse = FakeBedrockServer.standardResponse
    ) async throws -> FakeAWSServer {
        try await FakeAWSServer(service: "bedrock", region: region, credentials: credentials, responder: responder)
    }

    /// The model id of a `/model/{id}/...` path, percent-decoded.
    public static func modelID(_ uri: String) -> String? {
        let parts = uri.split(separator: "/")
        guard parts.count == 3, parts[0] == "model" else { return nil }
        return percentDecoded(parts[1])
    }

    /// Answers like Bedrock: a Converse answer, a ConverseStream of `words`, Titan or Cohere embeddings.
    public static func standardResponse(_ request: RecordedRequest) -> FakeAWSResponse {
        guard request.method == "POST", let id = modelID(request.uri) else {
            return .json(status: 404, body: #"{"message":"Unknown operation"}"#, errorType: "UnknownOperationException")
        }
        guard let json = request.json else {
            return .json(status: 400, body: #"{"message":"Malformed input request, please reformat your input and try again."}"#, errorType: "ValidationException")
        }
        if request.uri.hasSuffix("/converse") {
            return .json(status: 200, body: converseAnswer(text: "Hello from fake Bedrock"))
        }
        if request.uri.hasSuffix("/converse-stream") {
            return .eventStream(messages: streamMessages(words: ["Hello", " from", " fake", " Bedrock"]))
        }
        if request.uri.hasSuffix("/invoke") {
            if id.contains("titan-embed") {
                guard json["inputText"]?.stringValue != nil else {
                    return .json(status: 400, body: #"{"message":"Malformed input request: required key [inputText] not found"}"#, errorType: "ValidationException")
                }
                return .json(status: 200, body: #"{"embedding":[0.25,-0.5,0.125],"inputTextTokenCount":5}"#)
            }
            if id.contains("cohere.embed") {
                let count = json["texts"]?.arrayValue?.count ?? 0
                let vectors = (0..<count).map { "[0.\($0 + 1),0.5]" }.joined(separator: ",")
                return .json(status: 200, body: #"{"embeddings":[\#(vectors)],"id":"emb-1","response_type":"embeddings_floats","texts":[]}"#)
            }
        }
        return .json(status: 404, body: #"{"message":"Unknown operation"}"#, errorType: "UnknownOperationException")
    }

    /// A Converse answer with one text block.
    public static func converseAnswer(text: String, stopReason: String = "end_turn") -> String {
        var body = ByteBuffer()
        body.writeStaticString(#"{"output":{"message":{"role":"assistant","content":[{"text":"#)
        body.writeJSONString(text)
        body.writeString(#"}]}},"stopReason":"\#(stopReason)","usage":{"inputTokens":9,"outputTokens":4,"totalTokens":13},"metrics":{"latencyMs":120}}"#)
        return String(buffer: body)
    }

    /// One ConverseStream event message (`:message-type` event, JSON payload with AWS's `p` padding).
    public static func event(_ type: String, _ json: String) -> AWSEventStreamMessage {
        AWSEventStreamMessage(
            stringHeaders: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")],
            payload: json)
    }

    /// An exception message, as ConverseStream sends `throttlingException` and the like.
    public static func exception(_ type: String, message: String) -> AWSEventStreamMessage {
        var payload = ByteBuffer()
        payload.writeJSON(.object([JSONMember("message", .string(message))]))
        return AWSEventStreamMessage(
            stringHeaders: [(":exception-type", type), (":content-type", "application/json"), (":message-type", "exception")],
            payload: String(buffer: payload))
    }

    /// messageStart, one text delta per word, contentBlockStop, messageStop, metadata (9 + 4 tokens).
    public static func streamMessages(words: [String], stopReason: String = "end_turn") -> [AWSEventStreamMessage] {
        var messages = [event("messageStart", #"{"p":"abcdefghijkl","role":"assistant"}"#)]
        for w in words {
            var delta = ByteBuffer()
            delta.writeStaticString(#"{"contentBlockIndex":0,"delta":{"text":"#)
            delta.writeJSONString(w)
            delta.writeStaticString(#"},"p":"abcdef"}"#)
            messages.append(event("contentBlockDelta", String(buffer: delta)))
        }
        messages.append(event("contentBlockStop", #"{"contentBlockIndex":0,"p":"abcd"}"#))
        messages.append(event("messageStop", #"{"p":"abc","stopReason":"\#(stopReason)"}"#))
        messages.append(event("metadata", #"{"metrics":{"latencyMs":300},"p":"ab","usage":{"inputTokens":9,"outputTokens":4,"totalTokens":13}}"#))
        return messages
    }

    static func percentDecoded(_ text: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let c = bytes.popFirst() {
            if c == UInt8(ascii: "%"), bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
