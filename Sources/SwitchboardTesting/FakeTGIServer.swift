import NIOCore
import NIOPosix
import OpenAIWire

/// A Hugging Face Text Generation Inference server / Inference Endpoint on a loopback port:
/// `POST /generate` (`{"generated_text","details"}`), `POST /generate_stream` (SSE
/// `data:{"token":{…},"generated_text":null,"details":null}` events, the last with
/// `generated_text` and `details`), the Messages API `POST /v1/chat/completions` (OpenAI's
/// shapes, model `tgi`), and feature extraction at `POST /` (`{"inputs": [...]}` → a vector per
/// input, or per token when `tokenVectors`). Bearer auth; errors as TGI sends them
/// (`{"error","error_type"}`; 422 for an input containing ``tooLongWord``).
public final class FakeTGIServer: Sendable {
    public static let tooLongWord = "TOO_LONG"
    public static let tokens = ["Hello", " from", " fake", " TGI"]
    public static let generatedTokens = 5

    public let server: FakeOpenAIServer

    /// - Parameters:
    ///   - token: the Bearer token it expects.
    ///   - tokenVectors: feature extraction answers a vector per token (a raw encoder) instead
    ///     of one per input.
    ///   - eventDelay: the pause between stream events.
    public init(token: String = "hf-token", tokenVectors: Bool = false, eventDelay: TimeAmount = .zero) async throws {
        server = try await FakeOpenAIServer { request in
            FakeTGIServer.answer(request, token: token, tokenVectors: tokenVectors, eventDelay: eventDelay)
        }
    }

    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }

    static func answer(_ request: RecordedRequest, token: String, tokenVectors: Bool, eventDelay: TimeAmount) -> FakeResponse {
        guard request.header("authorization") == "Bearer \(token)" else {
            return .json(status: 401, body: #"{"error":"Authorization header is correct, but the token seems invalid"}"#)
        }
        guard request.method == "POST", let json = request.json else {
            return .json(status: 422, body: #"{"error":"Failed to deserialize the JSON body into the target type","error_type":"validation"}"#)
        }
        if request.body.contains(tooLongWord) {
            return .json(status: 422, body: #"{"error":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`","error_type":"validation"}"#)
        }
        switch request.uri {
        case "/generate":
            guard json["inputs"]?.stringValue != nil else { return missingInputs }
            return .json(status: 200, body: #"{"generated_text":"\#(tokens.joined())","details":{"finish_reason":"eos_token","generated_tokens":\#(generatedTokens),"seed":null,"prefill":[],"tokens":[]}}"#)
        case "/generate_stream":
            guard json["inputs"]?.stringValue != nil else { return missingInputs }
            var events = tokens.enumerated().map { i, text in
                #"data:{"index":\#(i + 1),"token":{"id":\#(100 + i),"text":"\#(text)","logprob":-0.25,"special":false},"generated_text":null,"details":null}"# + "\n\n"
            }
            events.append(#"data:{"index":\#(tokens.count + 1),"token":{"id":2,"text":"</s>","logprob":-0.01,"special":true},"generated_text":"\#(tokens.joined())","details":{"finish_reason":"eos_token","generated_tokens":\#(generatedTokens),"seed":null}}"# + "\n\n")
            return .sse(events: events, delay: eventDelay)
        case "/v1/chat/completions":
            var forwarded = request
            forwarded.uri = "/v1/chat/completions"
            if case .object(var members) = json {
                members.removeAll { $0.key == "model" }
                members.append(JSONMember("model", .string("tgi")))
                forwarded.body = JSONValue.object(members).jsonText
            }
            let standard = FakeOpenAIServer.standardResponse(forwarded)
            if case .sse(let events, _) = standard { return .sse(events: events, delay: eventDelay) }
            return standard
        case "/":
            guard let inputs = json["inputs"]?.arrayValue else { return missingInputs }
            let vectors = inputs.indices.map { i in
                tokenVectors ? "[[[\(i).0,1.0],[\(i).5,3.0]]]" : "[0.\(i + 1),-0.25,3e-2]"
            }
            return .json(status: 200, body: "[" + vectors.joined(separator: ",") + "]")
        default:
            return .json(status: 404, body: #"{"error":"Not Found"}"#)
        }
    }

    static let missingInputs = FakeResponse.json(status: 422, body: #"{"error":"missing field `inputs`","error_type":"validation"}"#)
}
