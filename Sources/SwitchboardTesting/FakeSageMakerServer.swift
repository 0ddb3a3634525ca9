import CloudAuth
import NIOCore
import OpenAIWire
import Providers

/// SageMaker Runtime's InvokeEndpoint on a ``FakeAWSServer`` (service `sagemaker`) with a
/// Hugging Face TGI container behind it: `POST /endpoints/{name}/invocations` answers
/// `[{"generated_text": ...}]` (or `{"embedding": [[...]]}` for `text_inputs`), and
/// `/invocations-response-stream` answers an event stream of `PayloadPart` messages whose
/// base64 `Bytes` carry TGI's `data:{...}` lines, cut at arbitrary places as SageMaker does.
public enum FakeSageMakerServer {
    public static func start(
        region: String = "us-east-1", credentials: AWSCredentials = FakeAWSServer.testCredentials,
        responder: @escaping @Sendable (RecordedRequest) -> FakeAWSResponse = FakeSageMakerServer.standardResponse
    ) async throws -> FakeAWSServer {
        try await FakeAWSServer(service: "sagemaker", region: region, credentials: credentials, responder: responder)
    }

    public static func standardResponse(_ request: RecordedRequest) -> FakeAWSResponse {
        let parts = request.uri.split(separator: "/")
        guard request.method == "POST", parts.count == 3, parts[0] == "endpoints" else {
            return .json(status: 404, body: #"{"message":"Unknown operation"}"#, errorType: "UnknownOperationException")
        }
        guard let json = request.json else {
            return .json(status: 400, body: #"{"message":"Malformed input"}"#, errorType: "ValidationError")
        }
        if let texts = json["text_inputs"]?.arrayValue {
            let vectors = texts.indices.map { "[0.\($0 + 1),0.5,0.25]" }.joined(separator: ",")
            return .json(status: 200, body: #"{"embedding":[\#(vectors)]}"#)
        }
        if parts[2] == "invocations-response-stream" {
            return .eventStream(messages: payloadParts(tgiLines(words: ["Hello", " from", " fake", " SageMaker"]), cutEvery: 37))
        }
        return .json(status: 200, body: #"[{"generated_text":"Hello from fake SageMaker"}]"#)
    }

    /// TGI's stream: one `data:{...}\n\n` per token, the last with `generated_text` and `details`.
    public static func tgiLines(words: [String]) -> String {
        var out = ""
        for (i, w) in words.enumerated() {
            var token = ByteBuffer()
            token.writeString(#"data:{"index":\#(i + 1),"token":{"id":\#(100 + i),"text":"#)
            token.writeJSONString(w)
            token.writeStaticString(#","logprob":-0.5,"special":false},"generated_text":"#)
            if i == words.count - 1 {
                token.writeJSONString(words.joined())
                token.writeString(#","details":{"finish_reason":"eos_token","generated_tokens":\#(words.count),"seed":null}}"#)
            } else {
                token.writeStaticString(#"null,"details":null}"#)
            }
            out += String(buffer: token) + "\n\n"
        }
        return out
    }

    /// `text` cut every `cutEvery` bytes into `PayloadPart` messages (`{"Bytes": base64}`).
    public static func payloadParts(_ text: String, cutEvery: Int) -> [AWSEventStreamMessage] {
        let bytes = Array(text.utf8)
        return stride(from: 0, to: bytes.count, by: cutEvery).map { start in
            let piece = Array(bytes[start..<min(bytes.count, start + cutEvery)])
            return AWSEventStreamMessage(
                stringHeaders: [(":event-type", "PayloadPart"), (":content-type", "application/json"), (":message-type", "event")],
                payload: #"{"Bytes":"\#(base64(piece))"}"#)
        }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = UInt32(bytes[i]) << 16 | (i + 1 < bytes.count ? UInt32(bytes[i + 1]) << 8 : 0) | (i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
