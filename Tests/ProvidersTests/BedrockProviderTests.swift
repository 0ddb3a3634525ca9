import CloudAuth
import CallModel
import NIOCore
import OpenAIWire
@testable import Providers
import SwitchboardConfig
import XCTest

/// Bedrock: plans, exact requests (URL, signed headers, Converse body), translation of
/// answers, streams at every split point, and errors.
final class BedrockProviderTests: XCTestCase {
    static let env = ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_REGION": "eu-west-1"]

    func deployment(_ model: String, configure: (inout LitellmParams) -> Void = { _ in }) -> Deployment {
        var p = LitellmParams(model: model)
        configure(&p)
        return Deployment(modelName: "g", params: p, modelInfo: ModelInfo(id: "id"))
    }

    func call(_ body: String, endpoint: Endpoint = .chatCompletions, stream: Bool = false) throws -> ProviderCall {
        let buffer = ByteBuffer(string: body)
        return ProviderCall(endpoint: endpoint, body: buffer, scan: try JSONScanner.scanObject(buffer), stream: stream, dropParams: false)
    }

    func header(_ r: UpstreamRequest, _ name: String) -> String? { r.headers.first(name: name) }

    func testPlanTakesRegionCredentialsAndEndpointFromConfigThenEnvironment() throws {
        let registry = ProviderRegistry(environment: Self.env)
        let plan = try registry.plan(deployment("bedrock/anthropic.claude-instant-v1"), model: "bedrock/anthropic.claude-instant-v1")
        XCTAssertEqual(plan.target, UpstreamTarget(tls: true, host: "bedrock-runtime.eu-west-1.amazonaws.com", port: 443))
        XCTAssertEqual(plan.upstreamModel, "anthropic.claude-instant-v1")
        XCTAssertEqual(plan.headers.first(name: "host"), "bedrock-runtime.eu-west-1.amazonaws.com")

        let own = try registry.plan(deployment("bedrock/converse/meta.llama3-8b-instruct-v1:0") {
            $0.awsRegionName = "us-east-2"
            $0.awsAccessKeyId = "AKIDCONFIG"
            $0.awsSecretAccessKey = "config-secret"
        }, model: "bedrock/converse/meta.llama3-8b-instruct-v1:0")
        XCTAssertEqual(own.target.host, "bedrock-runtime.us-east-2.amazonaws.com")
        XCTAssertEqual(own.upstreamModel, "meta.llama3-8b-instruct-v1:0")
        let r = try BedrockProvider(environment: Self.env).makeRequest(call(#"{"messages":[{"role":"user","content":"hi"}]}"#), plan: own)
        XCTAssertTrue(header(r, "authorization")!.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDCONFIG/"), "config credentials win")
        XCTAssertTrue(header(r, "authorization")!.contains("/us-east-2/bedrock/aws4_request"))

        let overridden = try ProviderRegistry(environment: Self.env.merging(["AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:9999"]) { $1 })
            .plan(deployment("bedrock/m"), model: "bedrock/m")
        XCTAssertEqual(overridden.target, UpstreamTarget(tls: false, host: "127.0.0.1", port: 9999))
        let configured = try registry.plan(deployment("bedrock/m") {
            $0.all.append(JSONMember("aws_bedrock_runtime_endpoint", .string("https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com")))
        }, model: "bedrock/m")
        XCTAssertEqual(configured.target.host, "vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com")

        // No keys: the plan stands (the AWS credential chain is asked in the background); a
        // request before the chain has credentials is a 500 that says what was looked at.
        let keyless = ProviderRegistry(environment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"])
        let chained = try keyless.plan(deployment("bedrock/m"), model: "bedrock/m")
        XCTAssertThrowsError(try chained.provider.makeRequest(call(#"{"messages":[{"role":"user","content":"hi"}]}"#), plan: chained)) { error in
            XCTAssertEqual((error as? OpenAIError)?.status, 500)
            XCTAssertTrue("\(error)".contains("AWS_ACCESS_KEY_ID"), "\(error)")
            XCTAssertTrue("\(error)".contains("the AWS credential chain"), "\(error)")
        }
        let defaultRegion = try ProviderRegistry(environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]).plan(deployment("bedrock/m"), model: "bedrock/m")
        XCTAssertEqual(defaultRegion.target.host, "bedrock-runtime.us-west-2.amazonaws.com", "LiteLLM's default region")
    }

    func testConverseRequestIsExactAndSignedForTheHostCalled() throws {
        let provider = BedrockProvider(environment: Self.env.merging(["AWS_SESSION_TOKEN": "tok"]) { $1 })
        let plan = try provider.plan(deployment("bedrock/anthropic.claude-3-haiku-20240307-v1:0") {
            $0.apiBase = "http://127.0.0.1:8123"
            $0.requestDefaults = [JSONMember("temperature", .double(0.5)), JSONMember("max_tokens", .int(100))]
        }, model: "anthropic.claude-3-haiku-20240307-v1:0")
        let body = #"""
        {"model":"g","max_tokens":256,"top_p":0.9,"stop":"END","messages":[
          {"role":"system","content":"Be brief."},
          {"role":"user","content":"Weather in Paris?"},
          {"role":"user","content":[{"type":"text","text":"And Rome?"}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},
          {"role":"tool","tool_call_id":"call_1","content":"sunny"}
        ],"tools":[{"type":"function","function":{"name":"weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
        "tool_choice":"auto"}
        """#
        let r = try provider.makeRequest(call(body), plan: plan)
        XCTAssertEqual(r.target, UpstreamTarget(tls: false, host: "127.0.0.1", port: 8123))
        XCTAssertEqual(r.uri, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
        XCTAssertEqual(String(buffer: r.body), #"{"messages":[{"role":"user","content":[{"text":"Weather in Paris?"},{"text":"And Rome?"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"call_1","name":"weather","input":{"city":"Paris"}}}]},{"role":"user","content":[{"toolResult":{"toolUseId":"call_1","content":[{"text":"sunny"}]}}]}],"system":[{"text":"Be brief."}],"inferenceConfig":{"maxTokens":256,"temperature":0.5,"topP":0.9,"stopSequences":["END"]},"toolConfig":{"tools":[{"toolSpec":{"name":"weather","description":"Weather","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}],"toolChoice":{"auto":{}}}}"#)
        XCTAssertEqual(header(r, "host"), "127.0.0.1:8123")
        XCTAssertEqual(header(r, "content-type"), "application/json")
        XCTAssertEqual(header(r, "accept"), "application/json")
        XCTAssertEqual(header(r, "x-amz-security-token"), "tok")
        let payloadHash = r.body.withUnsafeReadableBytes { AWSSigV4.sha256Hex($0) }
        XCTAssertEqual(header(r, "x-amz-content-sha256"), payloadHash)
        let amzDate = try XCTUnwrap(header(r, "x-amz-date"))
        XCTAssertEqual(amzDate.count, 16)
        // The signature verifies for what is actually sent.
        let signer = AWSSigV4(credentials: AWSCredentials(accessKeyID: "AKIDENV", secretAccessKey: "env-secret", sessionToken: "tok"), region: "eu-west-1", service: "bedrock")
        let signed = r.headers.filter { ["host", "content-type", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"].contains($0.name.lowercased()) }
        let expected = signer.authorization(
            method: "POST", canonicalPath: "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse", query: "",
            headers: signed.map { ($0.name, $0.value) }, payloadHash: payloadHash, time: .init(amzDate: amzDate))
        XCTAssertEqual(header(r, "authorization"), expected)
        XCTAssertFalse("\(r.headers)".contains("env-secret"), "the secret is never sent")

        let stream = try provider.makeRequest(call(#"{"messages":[{"role":"user","content":"hi"}],"stream":true}"#, stream: true), plan: plan)
        XCTAssertEqual(stream.uri, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
        XCTAssertEqual(header(stream, "accept"), "application/vnd.amazon.eventstream")
        XCTAssertEqual(String(buffer: stream.body), #"{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":100,"temperature":0.5}}"#)
    }

    func testEmbeddingRequests() throws {
        let provider = BedrockProvider(environment: Self.env)
        let titan = try provider.plan(deployment("bedrock/amazon.titan-embed-text-v2:0"), model: "amazon.titan-embed-text-v2:0")
        let r = try provider.makeRequest(call(#"{"model":"e","input":["hello"],"dimensions":256}"#, endpoint: .embeddings), plan: titan)
        XCTAssertEqual(r.uri, "/model/amazon.titan-embed-text-v2%3A0/invoke")
        XCTAssertEqual(String(buffer: r.body), #"{"inputText":"hello","dimensions":256}"#)
        XCTAssertThrowsError(try provider.makeRequest(call(#"{"input":["a","b"]}"#, endpoint: .embeddings), plan: titan)) { error in
            XCTAssertEqual((error as? OpenAIError)?.status, 400)
        }
        let cohere = try provider.plan(deployment("bedrock/cohere.embed-english-v3"), model: "cohere.embed-english-v3")
        let c = try provider.makeRequest(call(#"{"input":["a","b"]}"#, endpoint: .embeddings), plan: cohere)
        XCTAssertEqual(c.uri, "/model/cohere.embed-english-v3/invoke")
        XCTAssertEqual(String(buffer: c.body), #"{"texts":["a","b"],"input_type":"search_document"}"#)
    }

    // MARK: Answers

    func translator(_ operation: BedrockResponseTranslator.Operation = .converse, stream: Bool = false, usage: Bool = false) -> BedrockResponseTranslator {
        BedrockResponseTranslator(operation: operation, model: "anthropic.claude-3-haiku", streaming: stream, includeUsage: usage)
    }

    func testConverseAnswerBecomesAChatCompletion() throws {
        let t = translator()
        let out = try JSONValue.parse(String(buffer: t.translate(ByteBuffer(string: #"{"output":{"message":{"role":"assistant","content":[{"text":"Let me check."},{"toolUse":{"toolUseId":"tu_1","name":"weather","input":{"city":"Paris"}}}]}},"stopReason":"tool_use","usage":{"inputTokens":12,"outputTokens":7,"totalTokens":19},"metrics":{"latencyMs":5}}"#))))
        XCTAssertEqual(out["object"]?.stringValue, "chat.completion")
        XCTAssertTrue(out["id"]?.stringValue?.hasPrefix("chatcmpl-") ?? false)
        XCTAssertEqual(out["model"]?.stringValue, "anthropic.claude-3-haiku")
        let choice = out["choices"]?.arrayValue?.first
        XCTAssertEqual(choice?["finish_reason"]?.stringValue, "tool_calls")
        XCTAssertEqual(choice?["message"]?["content"]?.stringValue, "Let me check.")
        let call = choice?["message"]?["tool_calls"]?.arrayValue?.first
        XCTAssertEqual(call?["id"]?.stringValue, "tu_1")
        XCTAssertEqual(call?["function"]?["name"]?.stringValue, "weather")
        XCTAssertEqual(call?["function"]?["arguments"]?.stringValue, #"{"city":"Paris"}"#)
        XCTAssertEqual(out["usage"]?["total_tokens"]?.intValue, 19)
        XCTAssertEqual(t.usage, TokenUsage(promptTokens: 12, completionTokens: 7))
        for (stop, finish) in [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("content_filtered", "content_filter"), ("guardrail_intervened", "content_filter")] {
            XCTAssertEqual(BedrockResponseTranslator.finishReason(stop), finish)
        }
    }

    func testEmbeddingAnswers() throws {
        let titan = translator(.titanEmbedding)
        XCTAssertEqual(String(buffer: try titan.translate(ByteBuffer(string: #"{"embedding":[0.5,-0.25],"inputTextTokenCount":3}"#))),
                       #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"anthropic.claude-3-haiku","usage":{"prompt_tokens":3,"total_tokens":3}}"#)
        XCTAssertEqual(titan.usage, TokenUsage(promptTokens: 3, completionTokens: 0))
        let cohere = translator(.cohereEmbedding)
        let out = try JSONValue.parse(String(buffer: try cohere.translate(ByteBuffer(string: #"{"embeddings":{"float":[[0.5],[0.25]]},"id":"x"}"#))))
        XCTAssertEqual(out["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(out["data"]?.arrayValue?[1]["index"]?.intValue, 1)
    }

    static func wire(_ messages: [AWSEventStreamMessage]) -> [UInt8] { messages.flatMap { Array(buffer: $0.encoded()) } }

    static func event(_ type: String, _ json: String) -> AWSEventStreamMessage {
        AWSEventStreamMessage(stringHeaders: [(":event-type", type), (":content-type", "application/json"), (":message-type", "event")], payload: json)
    }

    static let streamWire = wire([
        event("messageStart", #"{"p":"abc","role":"assistant"}"#),
        event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hel"},"p":"a"}"#),
        event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"lo"}}"#),
        event("contentBlockStop", #"{"contentBlockIndex":0}"#),
        event("contentBlockStart", #"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu_9","name":"weather"}}}"#),
        event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}"#),
        event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Rome\"}"}}}"#),
        event("contentBlockStop", #"{"contentBlockIndex":1}"#),
        event("messageStop", #"{"stopReason":"tool_use"}"#),
        event("metadata", #"{"usage":{"inputTokens":21,"outputTokens":8,"totalTokens":29},"metrics":{"latencyMs":9}}"#),
    ])

    func run(_ t: BedrockResponseTranslator, _ wire: [UInt8], cuts: [Int]) throws -> [String] {
        var pieces: [String] = []
        var start = 0
        for cut in cuts + [wire.count] where cut >= start {
            try t.stream(ByteBuffer(bytes: wire[start..<cut])) { pieces.append(String(buffer: $0)) }
            start = cut
        }
        try t.streamEnd { pieces.append(String(buffer: $0)) }
        return pieces
    }

    func testTheStreamAtEverySplitPointGivesWholeChunksUsageAndDone() throws {
        let wire = Self.streamWire
        for cut in 0...wire.count {
            for usage in [false, true] {
                let t = translator(stream: true, usage: usage)
                let pieces = try run(t, wire, cuts: [cut])
                XCTAssertEqual(pieces.count, usage ? 9 : 8, "cut \(cut)")
                for p in pieces {
                    XCTAssertTrue(p.hasPrefix("data: ") && p.hasSuffix("\n\n"), "cut \(cut): \(p)")
                }
                XCTAssertEqual(pieces.last, "data: [DONE]\n\n")
                let chunks = pieces.dropLast().map { try! JSONValue.parse(String($0.dropFirst(6).dropLast(2))) }
                XCTAssertEqual(chunks[0]["choices"]?.arrayValue?[0]["delta"]?["role"]?.stringValue, "assistant")
                let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
                XCTAssertEqual(text, "Hello")
                let calls = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue?.first }
                XCTAssertEqual(calls.first?["id"]?.stringValue, "tu_9")
                XCTAssertEqual(calls.first?["function"]?["name"]?.stringValue, "weather")
                XCTAssertEqual(Set(calls.compactMap { $0["index"]?.intValue }), [0])
                XCTAssertEqual(calls.compactMap { $0["function"]?["arguments"]?.stringValue }.joined(), #"{"city":"Rome"}"#)
                XCTAssertEqual(chunks[6]["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "tool_calls")
                XCTAssertEqual(Set(chunks.compactMap { $0["id"]?.stringValue }).count, 1, "one id for the whole stream")
                if usage {
                    XCTAssertEqual(chunks.last?["choices"]?.arrayValue?.count, 0)
                    XCTAssertEqual(chunks.last?["usage"]?["total_tokens"]?.intValue, 29)
                }
                XCTAssertEqual(t.usage, TokenUsage(promptTokens: 21, completionTokens: 8))
            }
        }
    }

    func testEachEventIsEmittedAsSoonAsItIsComplete() throws {
        let t = translator(stream: true)
        let first = Array(buffer: Self.event("messageStart", #"{"role":"assistant"}"#).encoded())
        var emitted: [String] = []
        try t.stream(ByteBuffer(bytes: first.dropLast())) { emitted.append(String(buffer: $0)) }
        XCTAssertTrue(emitted.isEmpty)
        try t.stream(ByteBuffer(bytes: first.suffix(1))) { emitted.append(String(buffer: $0)) }
        XCTAssertEqual(emitted.count, 1)
    }

    func testExceptionEventsEndTheStreamWithTheirError() throws {
        for (type, status, kind) in [
            ("throttlingException", 429, UpstreamErrorKind.rateLimit), ("modelStreamErrorException", 424, .serverError),
            ("validationException", 400, .badRequest), ("internalServerException", 500, .serverError),
            ("serviceUnavailableException", 503, .serverError),
        ] {
            let exception = AWSEventStreamMessage(
                stringHeaders: [(":exception-type", type), (":content-type", "application/json"), (":message-type", "exception")],
                payload: #"{"message":"it broke"}"#)
            let t = translator(stream: true)
            var pieces: [String] = []
            XCTAssertThrowsError(try t.stream(ByteBuffer(bytes: Self.wire([Self.event("messageStart", "{}"), exception]))) { pieces.append(String(buffer: $0)) }) { error in
                guard case .status(let s) = error as? UpstreamFailure else { return XCTFail("\(error)") }
                XCTAssertEqual(s.status, status, type)
                XCTAssertEqual(s.kind, kind, type)
                let body = try? JSONValue.parse(String(buffer: s.clientBody ?? ByteBuffer()))
                XCTAssertTrue(body?["error"]?["message"]?.stringValue?.contains("it broke") ?? false)
                XCTAssertEqual(body?["error"]?["code"]?.stringValue, String(status))
            }
            XCTAssertEqual(pieces.count, 1, "the event before the exception was emitted")
        }
        let tooLong = AWSEventStreamMessage(
            stringHeaders: [(":exception-type", "validationException"), (":message-type", "exception")],
            payload: #"{"message":"Input is too long for requested model."}"#)
        XCTAssertThrowsError(try translator(stream: true).stream(ByteBuffer(bytes: Self.wire([tooLong]))) { _ in }) { error in
            guard case .status(let s) = error as? UpstreamFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(s.kind, .contextWindowExceeded)
        }
    }

    func testAStreamCutInsideAMessageIsMalformed() throws {
        let t = translator(stream: true)
        try t.stream(ByteBuffer(bytes: Self.streamWire.prefix(20))) { _ in }
        XCTAssertThrowsError(try t.streamEnd { _ in })
    }

    func testErrorsAreClassifiedAndShapedLikeOpenAIs() throws {
        let t = translator()
        func check(_ status: Int, _ message: String, _ kind: UpstreamErrorKind, _ type: String) throws {
            let body = ByteBuffer(string: #"{"message":"\#(message)"}"#)
            XCTAssertEqual(t.classifyError(status: status, body: body), kind, message)
            let error = try JSONValue.parse(String(buffer: try XCTUnwrap(t.clientErrorBody(status: status, body: body))))["error"]
            XCTAssertEqual(error?["type"]?.stringValue, type, message)
            XCTAssertEqual(error?["code"]?.stringValue, String(status))
            XCTAssertTrue(error?["message"]?.stringValue?.contains(message) ?? false)
        }
        try check(400, "Input is too long for requested model.", .contextWindowExceeded, "context_window_exceeded")
        try check(400, "The model returned the following errors: prompt is too long: 210000 tokens > 200000 maximum", .contextWindowExceeded, "context_window_exceeded")
        try check(400, "Malformed input request: #: extraneous key [foo] is not permitted", .badRequest, "invalid_request_error")
        try check(429, "Too many requests, please wait before trying again.", .rateLimit, "rate_limit_error")
        try check(403, "You don't have access to the model with the specified model ID.", .authentication, "permission_denied_error")
        try check(404, "Could not resolve the foundation model from the provided model identifier.", .notFound, "not_found_error")
        try check(424, "Model error", .serverError, "internal_server_error")
        try check(503, "Service unavailable", .serverError, "service_unavailable_error")
        XCTAssertEqual(t.classifyError(status: 500, body: ByteBuffer(string: "not json")), .serverError)
    }
}
