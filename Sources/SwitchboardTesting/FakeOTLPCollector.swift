import Foundation
import NIOCore
import OpenAIWire
import Synchronization

/// An OpenTelemetry collector's OTLP/HTTP receiver on a loopback port (also standing in for
/// Langfuse's `/api/public/otel/v1/traces`): records every POST and decodes the
/// `ExportTraceServiceRequest` it carries — protobuf (`application/x-protobuf`, through
/// ``OTLPProtobufDecoder``) or JSON — into ``ReceivedSpan``s. Answers with `answer`
/// (default: 200 with an empty `ExportTraceServiceResponse`), called with the number of the
/// request (0-based).
public final class FakeOTLPCollector: Sendable {
    public let server: FakeOpenAIServer

    public init(answer: @escaping @Sendable (_ n: Int, RecordedRequest) -> FakeResponse = { _, _ in FakeOTLPCollector.ok }) async throws {
        let served = RequestCounter()
        server = try await FakeOpenAIServer { request in
            let n = served.next()
            return answer(n, request)
        }
    }

    /// 200 with `{}` (an empty `ExportTraceServiceResponse`: full success).
    public static let ok = FakeResponse.json(status: 200, body: "{}")

    public var port: Int { server.port }
    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var requests: [RecordedRequest] { server.requests }

    /// Every span of every request received, in order.
    public var spans: [ReceivedSpan] { requests.flatMap(Self.decode) }

    /// Waits (up to `timeout` seconds) until `predicate` holds for the spans received.
    public func waitForSpans(timeout: Double = 15, _ predicate: ([ReceivedSpan]) -> Bool) async -> [ReceivedSpan] {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while ContinuousClock.now < deadline {
            let s = spans
            if predicate(s) { return s }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return spans
    }

    public func shutdown() async { await server.shutdown() }

    /// The spans of one OTLP/HTTP request, protobuf or JSON by its `Content-Type`.
    public static func decode(_ request: RecordedRequest) -> [ReceivedSpan] {
        if request.header("content-type") == "application/x-protobuf" { return OTLPProtobufDecoder.decode(request.bytes) }
        guard let json = request.json else { return [] }
        var out: [ReceivedSpan] = []
        for rs in json["resourceSpans"]?.arrayValue ?? [] {
            let resource = attributes(rs["resource"]?["attributes"])
            for ss in rs["scopeSpans"]?.arrayValue ?? [] {
                for s in ss["spans"]?.arrayValue ?? [] {
                    out.append(ReceivedSpan(
                        traceID: s["traceId"]?.stringValue ?? "", spanID: s["spanId"]?.stringValue ?? "",
                        parentSpanID: s["parentSpanId"]?.stringValue, name: s["name"]?.stringValue ?? "",
                        kind: s["kind"]?.intValue ?? 0, startUnixNanos: nanos(s["startTimeUnixNano"]),
                        endUnixNanos: nanos(s["endTimeUnixNano"]), attributes: attributes(s["attributes"]),
                        statusCode: s["status"]?["code"]?.intValue ?? 0, statusMessage: s["status"]?["message"]?.stringValue,
                        resource: resource, scope: ss["scope"]?["name"]?.stringValue ?? ""))
                }
            }
        }
        return out
    }

    /// OTLP `KeyValue`s → key → value as text (strings as they are, numbers and bools printed).
    static func attributes(_ list: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        for kv in list?.arrayValue ?? [] {
            guard let key = kv["key"]?.stringValue, let v = kv["value"] else { continue }
            if let s = v["stringValue"]?.stringValue {
                out[key] = s
            } else if let i = v["intValue"] {
                out[key] = i.stringValue ?? i.intValue.map(String.init) ?? ""
            } else if let d = v["doubleValue"]?.doubleValue {
                out[key] = String(d)
            } else if let b = v["boolValue"]?.boolValue {
                out[key] = String(b)
            }
        }
        return out
    }

    /// OTLP JSON writes 64-bit integers as strings (numbers are accepted too).
    static func nanos(_ v: JSONValue?) -> UInt64 {
        if let s = v?.stringValue { return UInt64(s) ?? 0 }
        return v?.doubleValue.map { UInt64($0) } ?? 0
    }
}

/// One span as a collector received it.
public struct ReceivedSpan: Sendable {
    public var traceID: String
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    /// 2 server, 3 client.
    public var kind: Int
    public var startUnixNanos: UInt64
    public var endUnixNanos: UInt64
    public var attributes: [String: String]
    /// 0 unset, 1 ok, 2 error.
    public var statusCode: Int
    public var statusMessage: String?
    public var resource: [String: String]
    public var scope: String

    public subscript(_ key: String) -> String? { attributes[key] }
}

/// Numbers requests in arrival order.
final class RequestCounter: Sendable {
    private let count = Mutex(0)
    func next() -> Int { count.withLock { n in defer { n += 1 }; return n } }
}
