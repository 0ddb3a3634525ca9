@testable import Callbacks
import CallModel
import Logging
import NIOCore
import NIOPosix
import OpenAIWire
import SwitchboardConfig
import SwitchboardTesting
import XCTest

/// The hand-written OTLP protobuf encoder against the JSON one: the same calls, encoded both
/// ways and decoded by the fake collector (its protobuf reader is written from the wire
/// format, not from the encoder), must give the same spans, field for field.
final class OTLPProtobufTests: XCTestCase {
    static let yaml = """
        model_list:
          - model_name: m
            litellm_params: {model: openai/gpt-m, api_base: "http://upstream.test/v1", api_key: k}
            model_info: {id: dep-1, input_cost_per_token: 0.001, output_cost_per_token: 0.002}
        """

    func calls() -> [LoggedCall] {
        var ok = CallRecord(
            callID: "0f8fad5b-d9cb-469f-a165-70867728950e", route: .chatCompletions, modelGroup: "m", deploymentID: "dep-1",
            firstAttempt: AttemptRecord(deploymentID: "dep-1", deploymentIndex: 0, reason: .first), laterAttempts: [],
            status: 200, failure: nil, stream: false, mocked: false, caller: .masterKey, timeToFirstByteNanoseconds: 1_500_000,
            totalNanoseconds: 2_000_000, overheadNanoseconds: 40_000, usage: TokenUsage(promptTokens: 9, completionTokens: 4))
        ok.firstAttempt?.upstreamStatus = 200
        ok.firstAttempt?.durationNanoseconds = 1_900_000
        ok.firstAttempt?.firstByteNanoseconds = 1_400_000
        ok.requestBody = ByteBuffer(string: #"{"model":"m","temperature":0.5,"messages":[{"role":"user","content":"h\u00e9llo \"quoted\" \\ é 😀\n"}]}"#)
        ok.responseBody = ByteBuffer(string: #"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#)

        // A body large enough that the span's length takes 3 bytes (the slot is moved down 2).
        var big = ok
        big.callID = "11111111-2222-3333-4444-555555555555"
        big.requestBody = ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":""# + String(repeating: "long ", count: 8000) + #""}]}"#)

        var failed = CallRecord(
            callID: "not-a-uuid", route: .embeddings, modelGroup: nil, deploymentID: "dep-unknown",
            firstAttempt: AttemptRecord(deploymentID: "dep-1", deploymentIndex: 0, reason: .first),
            // Slot 0 is dep-1's: a lookup by slot must check the id.
            laterAttempts: [AttemptRecord(deploymentID: "dep-unknown", deploymentIndex: 0, reason: .retry)],
            status: 504, failure: .timeout(seconds: 3), stream: true, mocked: true, caller: .anonymous,
            timeToFirstByteNanoseconds: 0, totalNanoseconds: 3_000_000_000, overheadNanoseconds: 1000, usage: nil)
        failed.firstAttempt?.failure = .timeout(seconds: 3)
        failed.firstAttempt?.durationNanoseconds = 1_000_000_000
        failed.laterAttempts[0].startNanoseconds = 1_000_000_000
        failed.laterAttempts[0].durationNanoseconds = 2_000_000_000
        var refused = ok
        refused.callID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
        refused.failure = nil
        refused.status = 429
        refused.usage = nil
        refused.firstAttempt = nil
        return [ok, big, failed, refused].map { LoggedCall($0) }
    }

    func encoded(_ calls: [LoggedCall], _ p: OTLPExporterSettings.WireProtocol, _ flavor: CallSpans.Flavor) throws -> RecordedRequest {
        let config = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: Self.yaml)
        let format = TraceCallback.format(
            protocol: p, directory: DeploymentDirectory(config: config), flavor: flavor,
            resource: [("service.name", "svc"), ("deployment.environment", "tést")])
        // Into a buffer holding an earlier batch's leftovers, as a sender reuses its last one.
        var body = ByteBuffer(string: "an earlier batch")
        body.moveReaderIndex(forwardBy: 3)
        format.encode(calls, into: &body)
        return RecordedRequest(
            method: "POST", uri: "/v1/traces", headers: [("Content-Type", p.contentType)], body: String(buffer: body),
            bytes: Array(body.readableBytesView))
    }

    func testProtobufAndJSONCarryTheSameSpans() throws {
        let calls = calls()
        for flavor in [CallSpans.Flavor.otel, .langfuse] {
            let json = try encoded(calls, .json, flavor)
            let proto = try encoded(calls, .protobuf, flavor)
            let a = FakeOTLPCollector.decode(json)
            let b = FakeOTLPCollector.decode(proto)
            // Langfuse shows an attempt only beside a retry, a fallback or a failure: the failed
            // call's two, not the others' one each.
            XCTAssertEqual(a.count, flavor == .otel ? 8 : 6, "4 calls, their attempts")
            XCTAssertEqual(b.count, a.count)
            XCTAssertNil(proto.json)
            XCTAssertLessThan(proto.bytes.count, json.bytes.count, "\(flavor): protobuf \(proto.bytes.count) B, JSON \(json.bytes.count) B")
            for (x, y) in zip(a, b) {
                XCTAssertEqual([x.traceID.count, x.spanID.count, y.traceID.count, y.spanID.count], [32, 16, 32, 16])
                XCTAssertEqual(x.name, y.name)
                XCTAssertEqual(x.kind, y.kind)
                XCTAssertEqual(x.startUnixNanos, y.startUnixNanos)
                XCTAssertEqual(x.endUnixNanos, y.endUnixNanos)
                XCTAssertEqual(x.statusCode, y.statusCode)
                XCTAssertEqual(x.statusMessage, y.statusMessage)
                XCTAssertEqual(x.resource, y.resource)
                XCTAssertEqual(x.scope, y.scope)
                XCTAssertEqual(x.attributes, y.attributes, x.name)
                XCTAssertEqual(x.parentSpanID == nil, y.parentSpanID == nil)
            }
            // Ids: the same in both; the call whose id is not a UUID has a random trace (and span
            // ids derived from it), drawn once for the call, so every callback shows the same.
            let same = zip(a, b).filter { $0.traceID == $1.traceID }
            XCTAssertEqual(same.count, a.count)
            for (x, y) in same {
                XCTAssertEqual(x.spanID, y.spanID)
                XCTAssertEqual(x.parentSpanID, y.parentSpanID)
            }
            let root = try XCTUnwrap(b.first)
            XCTAssertEqual(root.traceID, "0f8fad5bd9cb469fa16570867728950e")
            XCTAssertEqual(root.kind, 2)
            // Langfuse reads usage from gen_ai.usage.* (its details attributes only from its own SDKs).
            XCTAssertEqual(root["gen_ai.usage.input_tokens"], "9")
            if flavor == .otel {
                XCTAssertEqual(root["http.route"], "/chat/completions")
            } else {
                XCTAssertNil(root["http.route"], "Langfuse's metadata has the call's facts")
                XCTAssertNil(root["switchboard.call_id"], "Langfuse's metadata has the call id")
            }
            if flavor == .otel {
                XCTAssertEqual(b[1].parentSpanID, root.spanID)
                XCTAssertEqual(b[1].kind, 3)
            } else {
                XCTAssertFalse(b.contains { $0.parentSpanID == root.spanID }, "one successful attempt: the generation alone")
            }
            // The call span's id and deployment: its own attributes (otel), its metadata (Langfuse).
            func metadata(_ span: ReceivedSpan) -> JSONValue? { span["langfuse.observation.metadata"].flatMap { try? JSONValue.parse($0) } }
            func callID(_ span: ReceivedSpan) -> String? { span["switchboard.call_id"] ?? metadata(span)?["call_id"]?.stringValue }
            func deploymentID(_ span: ReceivedSpan) -> String? { span["switchboard.deployment_id"] ?? metadata(span)?["model_id"]?.stringValue }
            let big = try XCTUnwrap(b.first { callID($0) == "11111111-2222-3333-4444-555555555555" })
            if flavor == .langfuse {
                XCTAssertEqual(root["langfuse.observation.input"], #"[{"role":"user","content":"h\u00e9llo \"quoted\" \\ é 😀\n"}]"#)
                XCTAssertGreaterThan(big["langfuse.observation.input"]?.utf8.count ?? 0, 40_000)
                XCTAssertEqual(root["langfuse.observation.usage_details"], #"{"input":9,"output":4,"total":13}"#)
                XCTAssertNotNil(root["langfuse.observation.metadata"])
                XCTAssertNil(root["langfuse.trace.metadata"], "the observation carries the metadata")
            }
            let retried = b.filter { $0["switchboard.attempt.reason"] == "retry" }
            XCTAssertEqual(retried.map { $0["switchboard.deployment_id"] }, ["dep-unknown"])
            XCTAssertEqual(retried.first?.name, "embeddings dep-unknown")
            XCTAssertEqual(b.first { callID($0) == "not-a-uuid" }.flatMap(deploymentID), "dep-unknown")
            let refused = try XCTUnwrap(b.first { callID($0) == "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" })
            XCTAssertEqual(refused["error.type"], "429")
            XCTAssertEqual(refused.statusMessage, "answered 429")
        }
    }

    /// Each event loop fills its own batch; a full one goes to the sender as it is, and the
    /// timed flush collects the partly filled ones and joins them into one request.
    func testLoopsBatchesAreSentWholeOrJoined() throws {
        let config = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: Self.yaml)
        let directory = DeploymentDirectory(config: config)
        let calls = calls()
        let formats: [(String, any CallBatchFormat, String)] = [
            ("otel protobuf", TraceCallback.format(protocol: .protobuf, directory: directory, flavor: .otel, resource: []), "application/x-protobuf"),
            ("otel json", TraceCallback.format(protocol: .json, directory: directory, flavor: .otel, resource: []), "application/json"),
            ("generic_api", GenericAPICallback.format(directory: directory), "application/json"),
        ]
        for (name, format, contentType) in formats {
            // Only trace formats read a call's trace id: the event loop parses it only for them.
            XCTAssertEqual(format.readsTraceID, name != "generic_api", name)
            var settings = BatchingSender<CallBatch>.Settings(name: name, url: "http://127.0.0.1:9/", headers: [])
            settings.batchSize = 3
            let lane = CallLogLane(
                settings: settings, client: WebhookClient(group: MultiThreadedEventLoopGroup.singleton), logger: Logger(label: "test"),
                hooks: .init(), format: format, onSuccess: true, onFailure: true)
            let loopA = lane.openBatch()
            let loopB = lane.openBatch()
            lane.write(calls, into: loopA)
            lane.write(Array(calls[1..<2]), into: loopB)
            XCTAssertEqual(lane.sender.waiting, 3, "\(name): loop A's first three calls are a full batch")

            let open = lane.batches.collect()
            XCTAssertEqual(open.map(\.1), [1, 1], name)
            XCTAssertEqual(lane.batches.collect().count, 0, "\(name): collected once")
            var body = ByteBuffer()
            lane.batches.requestBody(open.map(\.0), into: &body)
            let request = RecordedRequest(
                method: "POST", uri: "/", headers: [("Content-Type", contentType)], body: String(buffer: body), bytes: Array(body.readableBytesView))
            if name == "generic_api" {
                let ids = request.json?.arrayValue?.map { $0["litellm_call_id"]?.stringValue }
                XCTAssertEqual(ids, [calls[3].record.callID, calls[1].record.callID])
            } else {
                let ids = Set(FakeOTLPCollector.decode(request).compactMap { $0["switchboard.call_id"] })
                XCTAssertEqual(ids, [calls[3].record.callID, calls[1].record.callID], name)
            }
        }
    }

    /// A delivered batch's buffer goes back to the lane (the sender's `recycle` hook), and the
    /// loop's next batch is written into it.
    func testDeliveredBuffersAreFilledAgain() async throws {
        let collector = try await FakeOTLPCollector()
        let config = try ConfigLoader(environment: [:], exportsEnvironmentVariables: false).load(yaml: Self.yaml)
        let calls = calls()
        var settings = BatchingSender<CallBatch>.Settings(name: "otel", url: collector.baseURL + "/v1/traces", headers: [])
        settings.contentType = "application/x-protobuf"
        settings.batchSize = 2
        let lane = CallLogLane(
            settings: settings, client: WebhookClient(group: MultiThreadedEventLoopGroup.singleton), logger: Logger(label: "test"),
            hooks: .init(), format: TraceCallback.format(protocol: .protobuf, directory: DeploymentDirectory(config: config), flavor: .otel, resource: []),
            onSuccess: true, onFailure: true)
        lane.sender.start()
        let batch = lane.openBatch()
        lane.write(Array(calls.prefix(2)), into: batch)
        let deadline = ContinuousClock.now + .seconds(20)
        while lane.batches.spareCount == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertEqual(lane.batches.spareCount, 1, "the delivered buffer came back")
        XCTAssertEqual(collector.requests.count, 1)
        XCTAssertEqual(Set(collector.spans.compactMap { $0["switchboard.call_id"] }), Set(calls.prefix(2).map(\.record.callID)))
        lane.write(Array(calls.suffix(1)), into: batch)
        XCTAssertEqual(lane.batches.spareCount, 0, "the next batch is written into it")
        await lane.sender.stop()
        XCTAssertEqual(collector.requests.count, 2)
        await collector.shutdown()
    }

    func testVarintsAreMinimal() {
        for (v, n) in [(0, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (1 << 21, 4), (1 << 28, 5)] as [(UInt64, Int)] {
            XCTAssertEqual(ProtoOut.varintSize(v), n, "\(v)")
            let bytes = ProtoOut.bytes(bound: 10) { $0.varint(v) }
            XCTAssertEqual(bytes.count, n)
            XCTAssertEqual(bytes.last.map { $0 < 0x80 }, true)
        }
        XCTAssertEqual(ProtoOut.bytes(bound: 10) { $0.varint(300) }, [0xAC, 0x02])
        XCTAssertEqual(ProtoOut.varintSize(UInt64.max), 10)
    }
}
