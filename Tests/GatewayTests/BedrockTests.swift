import CallModel
import CloudAuth
import Foundation
import NIOCore
import OpenAIWire
import Providers
import SwitchboardTesting
import XCTest

/// Bedrock end to end: the gateway against a fake Bedrock Runtime that checks SigV4, speaks
/// JSON and the binary event stream.
final class BedrockTests: XCTestCase {
    static let model = "anthropic.claude-3-haiku-20240307-v1:0"

    static func config(_ bedrock: FakeAWSServer, secret: String = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", extra: String = "") -> String {
        """
        model_list:
          - model_name: claude
            litellm_params:
              model: "bedrock/\(model)"
              api_base: "\(bedrock.endpointURL)"
              aws_access_key_id: AKIDEXAMPLE
              aws_secret_access_key: "\(secret)"
              aws_region_name: us-east-1\(extra)
          - model_name: titan
            litellm_params: {model: "bedrock/amazon.titan-embed-text-v1", api_base: "\(bedrock.endpointURL)", aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "\(secret)", aws_region_name: us-east-1}
          - model_name: cohere-embed
            litellm_params: {model: "bedrock/cohere.embed-english-v3", api_base: "\(bedrock.endpointURL)", aws_access_key_id: AKIDEXAMPLE, aws_secret_access_key: "\(secret)", aws_region_name: us-east-1}
        """
    }

    /// A chat call, again every 100 ms (at most 50 times) until `done` holds: credentials are
    /// fetched in the background from the plan on, and a call this early may precede them.
    func call(_ gateway: GatewayHarness, _ body: String, until done: (TestHTTPResponse) -> Bool = { $0.status != 500 }) async throws -> TestHTTPResponse {
        var r = try gateway.request("POST", "/v1/chat/completions", body: body)
        for _ in 0..<50 where !done(r) {
            try await Task.sleep(nanoseconds: 100_000_000)
            r = try gateway.request("POST", "/v1/chat/completions", body: body)
        }
        return r
    }

    static func chat(_ content: String, stream: Bool = false, extra: String = "") -> String {
        #"{"model":"claude","stream":\#(stream),"max_tokens":64,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"\#(content)"}]\#(extra)}"#
    }

    func testPlainChatIsTranslatedBothWaysAndSigned() async throws {
        let bedrock = try await FakeBedrockServer.start()
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock))
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("Hi"))
        XCTAssertEqual(r.status, 200, r.body)
        let answer = try JSONValue.parse(r.body)
        XCTAssertEqual(answer["object"]?.stringValue, "chat.completion")
        XCTAssertEqual(answer["model"]?.stringValue, Self.model)
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue, "Hello from fake Bedrock")
        XCTAssertEqual(answer["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue, "stop")
        XCTAssertEqual(answer["usage"]?["prompt_tokens"]?.intValue, 9)

        let sent = try XCTUnwrap(bedrock.requests.first)
        XCTAssertEqual(sent.method, "POST")
        XCTAssertEqual(sent.uri, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
        XCTAssertEqual(sent.body, #"{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"system":[{"text":"Be brief."}],"inferenceConfig":{"maxTokens":64}}"#)
        XCTAssertEqual(sent.header("host"), "127.0.0.1:\(bedrock.port)")
        XCTAssertEqual(sent.header("content-type"), "application/json")
        XCTAssertTrue(sent.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") ?? false)
        XCTAssertNil(bedrock.signatureProblem(sent), "the fake verified the signature")
        XCTAssertNotNil(sent.header("x-amz-date"))

        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: 9, completionTokens: 4))
        XCTAssertEqual(records.first?.status, 200)
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testStreamingChatReachesTheClientEventByEvent() async throws {
        let bedrock = try await FakeBedrockServer.start { request in
            .eventStream(messages: FakeBedrockServer.streamMessages(words: ["one", " two", " three"]), delay: .milliseconds(300))
        }
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock))
        let client = try gateway.client()
        let started = Date()
        try client.sendRequest("POST", "/v1/chat/completions", body: Self.chat("count", stream: true, extra: #","stream_options":{"include_usage":true}"#))
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-type"), "text/event-stream")
        let first = try XCTUnwrap(try client.readChunk())
        let firstAt = Date().timeIntervalSince(started)
        XCTAssertTrue(first.hasPrefix("data: {"), first)
        var rest: [String] = []
        while let chunk = try client.readChunk() { rest.append(chunk) }
        XCTAssertLessThan(firstAt, 0.25, "the first event must reach the client before Bedrock sends the next")
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 1.5, "Bedrock spaced 7 events 300 ms apart")
        let all = ([first] + rest).joined()
        XCTAssertTrue(all.hasSuffix("data: [DONE]\n\n"), all)
        let chunks = all.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.compactMap { try? JSONValue.parse(String($0.dropFirst(6))) }
        let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
        XCTAssertEqual(text, "one two three")
        XCTAssertEqual(chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }, ["stop"])
        XCTAssertEqual(chunks.last?["usage"]?["completion_tokens"]?.intValue, 4, "the client asked for the usage chunk")
        XCTAssertEqual(bedrock.requests.first?.uri, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
        XCTAssertEqual(bedrock.requests.first?.header("accept"), "application/vnd.amazon.eventstream")

        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: 9, completionTokens: 4))
        XCTAssertEqual(records.first?.stream, true)
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testEmbeddingsWithTitanAndCohere() async throws {
        let bedrock = try await FakeBedrockServer.start()
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock))
        let titan = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"titan","input":"hello"}"#)
        XCTAssertEqual(titan.status, 200, titan.body)
        XCTAssertEqual(titan.body, #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-0.5,0.125]}],"model":"amazon.titan-embed-text-v1","usage":{"prompt_tokens":5,"total_tokens":5}}"#)
        XCTAssertEqual(bedrock.requests.last?.uri, "/model/amazon.titan-embed-text-v1/invoke")
        XCTAssertEqual(bedrock.requests.last?.body, #"{"inputText":"hello"}"#)

        let cohere = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"cohere-embed","input":["a","b"]}"#)
        XCTAssertEqual(cohere.status, 200, cohere.body)
        let list = try JSONValue.parse(cohere.body)
        XCTAssertEqual(list["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(bedrock.requests.last?.body, #"{"texts":["a","b"],"input_type":"search_document"}"#)

        let many = try gateway.request("POST", "/v1/embeddings", body: #"{"model":"titan","input":["a","b"]}"#)
        XCTAssertEqual(many.status, 400, "Titan embeds one text per call")
        let records = await gateway.records.wait(for: 2)
        XCTAssertEqual(records.first?.usage, TokenUsage(promptTokens: 5, completionTokens: 0))
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testErrorsBecomeOpenAIErrorsWithTheirStatus() async throws {
        let bedrock = try await FakeBedrockServer.start { request in
            switch request.json?["messages"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"]?.stringValue {
            case "slow": return .json(status: 429, body: #"{"message":"Too many requests, please wait before trying again."}"#, errorType: "ThrottlingException")
            case "long": return .json(status: 400, body: #"{"message":"Input is too long for requested model."}"#, errorType: "ValidationException")
            case "nope": return .json(status: 404, body: #"{"message":"Could not resolve the foundation model from the provided model identifier."}"#, errorType: "ResourceNotFoundException")
            default: return FakeBedrockServer.standardResponse(request)
            }
        }
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock, extra: "\n      num_retries: 0"))
        for (content, status, type) in [("slow", 429, "rate_limit_error"), ("long", 400, "context_window_exceeded"), ("nope", 404, "not_found_error")] {
            let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat(content))
            XCTAssertEqual(r.status, status, r.body)
            XCTAssertEqual(r.header("content-type"), "application/json")
            let error = try JSONValue.parse(r.body)["error"]
            XCTAssertEqual(error?["type"]?.stringValue, type, content)
            XCTAssertEqual(error?["code"]?.stringValue, String(status))
            XCTAssertTrue(error?["message"]?.stringValue?.contains("BedrockException") ?? false, r.body)
        }
        let records = await gateway.records.wait(for: 3)
        XCTAssertEqual(Set(records.compactMap { $0.failure?.name }), ["rate_limit", "context_window_exceeded", "not_found"])
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testAWrongSecretIsRefusedByTheSignatureCheck() async throws {
        let bedrock = try await FakeBedrockServer.start()
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock, secret: "not-the-secret"))
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("Hi"))
        XCTAssertEqual(r.status, 403, r.body)
        XCTAssertTrue(r.body.contains("signature"), r.body)
        XCTAssertFalse(r.body.contains("not-the-secret"), "secrets never reach answers")
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testAStreamExceptionBeforeTheFirstEventIsAJSONErrorAndAfterItAnSSEError() async throws {
        let bedrock = try await FakeBedrockServer.start { request in
            let throttled = FakeBedrockServer.exception("throttlingException", message: "Too many tokens per minute")
            if request.body.contains("early") { return .eventStream(messages: [throttled]) }
            let start = Array(FakeBedrockServer.streamMessages(words: ["partial"]).prefix(2))
            return .eventStream(messages: start + [FakeBedrockServer.exception("modelStreamErrorException", message: "model crashed")])
        }
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock, extra: "\n      num_retries: 0"))
        let early = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("early", stream: true))
        XCTAssertEqual(early.status, 429, early.body)
        XCTAssertEqual(try JSONValue.parse(early.body)["error"]?["type"]?.stringValue, "rate_limit_error")
        let late = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("late", stream: true))
        XCTAssertEqual(late.status, 200)
        XCTAssertTrue(late.body.contains("partial"), late.body)
        XCTAssertTrue(late.body.contains(#"data: {"error""#), late.body)
        XCTAssertTrue(late.body.contains("model crashed"), late.body)
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testACorruptedEventStreamIsAMalformedAnswer() async throws {
        let bedrock = try await FakeBedrockServer.start { _ in
            var bytes = Array(buffer: FakeBedrockServer.event("messageStart", #"{"role":"assistant"}"#).encoded())
            bytes[bytes.count - 1] ^= 0xFF
            return .rawEventStream(bytes)
        }
        let gateway = try await GatewayHarness(yaml: Self.config(bedrock, extra: "\n      num_retries: 0"))
        let r = try gateway.request("POST", "/v1/chat/completions", body: Self.chat("x", stream: true))
        XCTAssertEqual(r.status, 502, r.body)
        XCTAssertTrue(r.body.contains("CRC"), r.body)
        let records = await gateway.records.wait(for: 1)
        XCTAssertEqual(records.first?.failure?.name, "malformed")
        await gateway.shutdown()
        await bedrock.shutdown()
    }

    func testWildcardDeploymentsTakeCredentialsRegionAndEndpointFromTheEnvironment() async throws {
        let bedrock = try await FakeBedrockServer.start(region: "eu-central-1")
        let gateway = try await GatewayHarness(
            yaml: """
                model_list:
                  - model_name: "bedrock/*"
                    litellm_params: {model: "bedrock/*"}
                """,
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "AWS_REGION_NAME": "eu-central-1", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.endpointURL,
            ])
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"bedrock/meta.llama3-8b-instruct-v1:0","messages":[{"role":"user","content":"Hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        XCTAssertEqual(bedrock.requests.first?.uri, "/model/meta.llama3-8b-instruct-v1%3A0/converse")
        XCTAssertTrue(bedrock.requests.first?.header("authorization")?.contains("/eu-central-1/bedrock/aws4_request") ?? false)
        await gateway.shutdown()
        await bedrock.shutdown()
    }
    func testWithoutKeysTheAWSCredentialChainSignsAndAnEmptyChainIsAClearError() async throws {
        // An ECS task role / EKS Pod Identity: the container endpoint hands out session credentials.
        let issued = FakeIssuedCredentials()
        let credentialServer = try await FakeAWSCredentialServer(issued: issued)
        let bedrock = try await FakeBedrockServer.start(credentials: AWSCredentials(
            accessKeyID: issued.accessKeyID, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken))
        let yaml = """
            model_list:
              - model_name: claude
                litellm_params: {model: "bedrock/\(Self.model)", api_base: "\(bedrock.endpointURL)", aws_region_name: us-east-1}
            """
        let home = ScratchFiles.path("no-aws")
        let isolated = ["HOME": home, "AWS_EC2_METADATA_DISABLED": "true"]
        let gateway = try await GatewayHarness(yaml: yaml, environment: isolated.merging(
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI": credentialServer.endpointURL + credentialServer.containerPath]) { $1 })
        let r = try await call(gateway, Self.chat("Hi"))
        XCTAssertEqual(r.status, 200, r.body)
        let sent = try XCTUnwrap(bedrock.requests.last)
        XCTAssertTrue(sent.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=\(issued.accessKeyID)/") ?? false)
        XCTAssertEqual(sent.header("x-amz-security-token"), issued.sessionToken)
        XCTAssertNil(bedrock.signatureProblem(sent), "signed with the chain's session credentials")
        XCTAssertEqual(credentialServer.requests.count, 1, "fetched once, kept until near its expiry")
        await gateway.shutdown()

        // No keys anywhere and no chain source: a 500 that says why, naming no secret.
        let empty = try await GatewayHarness(yaml: yaml, environment: isolated)
        let failed = try await call(empty, Self.chat("Hi")) { $0.body.contains("no AWS credentials found") }
        XCTAssertEqual(failed.status, 500)
        XCTAssertTrue(failed.body.contains("the AWS credential chain (web identity, profile, container, instance metadata) has none: no AWS credentials found"), failed.body)
        await empty.shutdown()
        await bedrock.shutdown()
        await credentialServer.shutdown()
    }

    /// A deployment's `aws_role_name`: STS AssumeRole signed with its keys, then each call signed
    /// with the role's temporary credentials; a role STS refuses is a 500 that says why.
    func testAnAssumedRoleSignsTheCallsAndARefusedRoleIsAClearError() async throws {
        let issued = FakeIssuedCredentials()
        let base = AWSCredentials(accessKeyID: "AKIDBASEKEY", secretAccessKey: "baseSecret/+=")
        let role = "arn:aws:iam::123456789012:role/bedrock-caller"
        let sts = try await FakeSTSServer.start(region: "eu-west-1", credentials: base, roleARN: role, issued: issued)
        let bedrock = try await FakeBedrockServer.start(region: "eu-west-1", credentials: AWSCredentials(
            accessKeyID: issued.accessKeyID, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken))
        func deployment(_ name: String, role: String) -> String {
            """
              - model_name: \(name)
                litellm_params:
                  model: "bedrock/\(Self.model)"
                  api_base: "\(bedrock.endpointURL)"
                  aws_region_name: eu-west-1
                  aws_access_key_id: AKIDBASEKEY
                  aws_secret_access_key: "baseSecret/+="
                  aws_role_name: "\(role)"
                  aws_session_name: sb-session
                  aws_sts_endpoint: "\(sts.endpointURL)"
            """
        }
        let yaml = "model_list:\n" + deployment("claude", role: role) + "\n" + deployment("other", role: "arn:aws:iam::123456789012:role/not-allowed") + "\n"
        let home = ScratchFiles.path("no-aws")
        let gateway = try await GatewayHarness(yaml: yaml, environment: ["HOME": home, "AWS_EC2_METADATA_DISABLED": "true"])
        func chat(_ model: String) -> String { #"{"model":"\#(model)","messages":[{"role":"user","content":"Hi"}]}"# }
        let r = try await call(gateway, chat("claude"))
        XCTAssertEqual(r.status, 200, r.body)
        let sent = try XCTUnwrap(bedrock.requests.last)
        XCTAssertTrue(sent.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=\(issued.accessKeyID)/") ?? false)
        XCTAssertEqual(sent.header("x-amz-security-token"), issued.sessionToken)
        XCTAssertNil(bedrock.signatureProblem(sent), "signed with the role's temporary credentials")

        let assumed = sts.requests.filter { $0.formFields["RoleArn"] == role }
        XCTAssertEqual(assumed.count, 1, "assumed once, kept until near its expiry")
        let request = try XCTUnwrap(assumed.first)
        XCTAssertEqual(request.formFields["Action"], "AssumeRole")
        XCTAssertEqual(request.formFields["RoleSessionName"], "sb-session")
        XCTAssertEqual(request.formFields["DurationSeconds"], "3600")
        XCTAssertTrue(request.header("authorization")?.contains("Credential=AKIDBASEKEY/") ?? false)
        XCTAssertTrue(request.header("authorization")?.contains("/eu-west-1/sts/aws4_request") ?? false)
        XCTAssertNil(sts.signatureProblem(request), "AssumeRole signed with the deployment's keys")

        // STS refuses the other role: a 500 naming the role and STS's answer, never a secret.
        let refused = try await call(gateway, chat("other")) { $0.body.contains("AccessDenied") }
        XCTAssertEqual(refused.status, 500)
        XCTAssertTrue(refused.body.contains("role arn:aws:iam::123456789012:role/not-allowed"), refused.body)
        XCTAssertTrue(refused.body.contains("AssumeRole answered 403 AccessDenied"), refused.body)
        XCTAssertFalse(refused.body.contains("baseSecret"), refused.body)
        await gateway.shutdown()
        await bedrock.shutdown()
        await sts.shutdown()
    }

    /// A deployment's `aws_profile_name`: that profile's keys from the shared credentials file
    /// sign its calls, whatever `AWS_PROFILE` says.
    func testAProfileNamedByTheDeploymentSignsItsCalls() async throws {
        let bedrock = try await FakeBedrockServer.start(region: "us-east-1")
        let dir = ScratchFiles.path("aws-profile")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/credentials"
        let key = FakeAWSServer.testCredentials
        try "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n\n[bedrock-team]\naws_access_key_id = \(key.accessKeyID)\naws_secret_access_key = \(key.secretAccessKey)\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let yaml = """
            model_list:
              - model_name: claude
                litellm_params: {model: "bedrock/\(Self.model)", api_base: "\(bedrock.endpointURL)", aws_region_name: us-east-1, aws_profile_name: bedrock-team}
            """
        let gateway = try await GatewayHarness(yaml: yaml, environment: [
            "HOME": dir, "AWS_SHARED_CREDENTIALS_FILE": file, "AWS_EC2_METADATA_DISABLED": "true",
        ])
        let r = try await call(gateway, Self.chat("Hi"))
        XCTAssertEqual(r.status, 200, r.body)
        let sent = try XCTUnwrap(bedrock.requests.last)
        XCTAssertTrue(sent.header("authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=\(key.accessKeyID)/") ?? false)
        XCTAssertNil(bedrock.signatureProblem(sent))
        await gateway.shutdown()
        await bedrock.shutdown()
    }
}
