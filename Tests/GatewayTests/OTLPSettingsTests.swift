@testable import Callbacks
import Foundation
import NIOCore
import XCTest

/// How the `otel` and `langfuse` exporters read their variables (no sockets: pure settings).
final class OTLPSettingsTests: XCTestCase {
    func testEndpointPrecedenceAndPath() {
        XCTAssertEqual(OTLPExporterSettings.otel(environment: [:]).endpoint, "http://localhost:4318/v1/traces")
        XCTAssertEqual(OTLPExporterSettings.otel(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]).endpoint, "http://c:4318/v1/traces")
        XCTAssertEqual(OTLPExporterSettings.otel(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/v1/traces/"]).endpoint, "http://c:4318/v1/traces")
        XCTAssertEqual(OTLPExporterSettings.otel(environment: ["OTEL_ENDPOINT": "https://lite:4318"]).endpoint, "https://lite:4318/v1/traces", "LiteLLM's variable")
        XCTAssertEqual(
            OTLPExporterSettings.otel(environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:9999/custom",
            ]).endpoint,
            "http://t:9999/custom", "the signal's own endpoint is used as it is")
        XCTAssertEqual(OTLPExporterSettings.otel(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "  "]).endpoint, "http://localhost:4318/v1/traces")
    }

    func testHeadersResourceBatchingAndTimeout() {
        let s = OTLPExporterSettings.otel(environment: [
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%3Db%20c, x-empty=",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-traces=1",
            "OTEL_SERVICE_NAME": "edge", "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,deployment.environment=prod",
            "OTEL_BSP_SCHEDULE_DELAY": "250", "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "7",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "1500", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        ])
        XCTAssertEqual(s.headers.map { "\($0.0)=\($0.1)" }, ["x-traces=1"], "the traces variable wins over the shared one")
        let shared = OTLPExporterSettings.otel(environment: ["OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%3Db%20c, x-empty="])
        XCTAssertEqual(shared.headers.map { "\($0.0)=\($0.1)" }, ["api-key=a=b c", "x-empty="], "values are percent-decoded")
        XCTAssertEqual(s.resource.first { $0.0 == "service.name" }?.1, "edge", "OTEL_SERVICE_NAME wins")
        XCTAssertEqual(s.resource.first { $0.0 == "deployment.environment" }?.1, "prod")
        XCTAssertEqual(s.interval, .milliseconds(250))
        XCTAssertEqual(s.capacity, 100)
        XCTAssertEqual(s.batchSize, 7)
        XCTAssertEqual(s.timeout, .milliseconds(1500))
        XCTAssertTrue(s.warnings.isEmpty)
        XCTAssertEqual(OTLPExporterSettings.otel(environment: ["DEFAULT_FLUSH_INTERVAL_SECONDS": "0.5"]).interval, .milliseconds(500))
        XCTAssertEqual(
            OTLPExporterSettings.otel(environment: ["OTEL_RESOURCE_ATTRIBUTES": "service.name=from-resource"]).resource.first { $0.0 == "service.name" }?.1,
            "from-resource")
        XCTAssertEqual(s.wireProtocol, .json)
        XCTAssertEqual(OTLPExporterSettings.otel(environment: [:]).wireProtocol, .protobuf, "the OTLP default")
        let protobuf = OTLPExporterSettings.otel(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"])
        XCTAssertEqual(protobuf.wireProtocol, .protobuf, "the traces variable wins")
        XCTAssertTrue(protobuf.warnings.isEmpty)
        let grpc = OTLPExporterSettings.otel(environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        XCTAssertEqual(grpc.wireProtocol, .protobuf)
        XCTAssertEqual(grpc.warnings.count, 1)
    }

    func testLangfuseEndpointAndAuthIgnoreTheOTelVariables() throws {
        XCTAssertNil(try? OTLPExporterSettings.langfuse(environment: ["LANGFUSE_PUBLIC_KEY": "pk"]).get())
        let s = try OTLPExporterSettings.langfuse(environment: [
            "LANGFUSE_PUBLIC_KEY": "pk-lf-1", "LANGFUSE_SECRET_KEY": "sk-lf-2",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=other",
        ]).get()
        XCTAssertEqual(s.endpoint, "https://cloud.langfuse.com/api/public/otel/v1/traces")
        XCTAssertEqual(s.headers.map(\.0), ["Authorization"])
        XCTAssertEqual(s.headers.first?.1, "Basic " + Data("pk-lf-1:sk-lf-2".utf8).base64EncodedString())
        let selfHosted = try OTLPExporterSettings.langfuse(environment: [
            "LANGFUSE_PUBLIC_KEY": "a", "LANGFUSE_SECRET_KEY": "b", "LANGFUSE_HOST": "http://langfuse.internal:3000//",
        ]).get()
        XCTAssertEqual(selfHosted.endpoint, "http://langfuse.internal:3000/api/public/otel/v1/traces")
        let json = try OTLPExporterSettings.langfuse(environment: ["LANGFUSE_PUBLIC_KEY": "a", "LANGFUSE_SECRET_KEY": "b", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"]).get()
        XCTAssertEqual(json.wireProtocol, .protobuf, "Langfuse is always sent protobuf")
    }

    func testISO8601AndTraceIDs() {
        XCTAssertEqual(CallSpans.iso8601(unixNanos: 0), "1970-01-01T00:00:00.000000Z")
        XCTAssertEqual(CallSpans.iso8601(unixNanos: 1_709_251_199_123_456_789), "2024-02-29T23:59:59.123456Z")
        XCTAssertEqual(CallSpans.iso8601(unixNanos: 951_782_400_000_000_000), "2000-02-29T00:00:00.000000Z")
        XCTAssertEqual(CallSpans.traceID(callID: "0F8FAD5B-D9CB-469F-A165-70867728950E"), "0f8fad5bd9cb469fa16570867728950e")
        let random = CallSpans.traceID(callID: "not-a-uuid")
        XCTAssertEqual(random.count, 32)
        XCTAssertNotEqual(random, CallSpans.traceID(callID: "not-a-uuid"))
        XCTAssertEqual(CallSpans.randomHex(bytes: 8).count, 16)
    }
}
