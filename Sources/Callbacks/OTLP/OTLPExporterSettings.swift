import Foundation
import NIOCore

/// Where and how the `otel` and `langfuse` callbacks send their traces, read once from the
/// environment at start.
///
/// `otel` reads the standard OpenTelemetry variables: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
/// (used as it is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` appended; LiteLLM's
/// `OTEL_ENDPOINT` too), default `http://localhost:4318/v1/traces`;
/// `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` (`k=v,k2=v2`, values percent-decoded; LiteLLM's
/// `OTEL_HEADERS` too); `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`: `http/protobuf` (the
/// default, as in the OTLP specification) or `http/json` (`grpc` is not spoken: a warning,
/// and protobuf over HTTP); `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` (ms, default 10000);
/// `OTEL_SERVICE_NAME` (default `switchboard`) and `OTEL_RESOURCE_ATTRIBUTES`; the batch
/// processor's `OTEL_BSP_SCHEDULE_DELAY` (ms; default `DEFAULT_FLUSH_INTERVAL_SECONDS`, else 5000), `OTEL_BSP_MAX_QUEUE_SIZE` (2048)
/// and `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (512).
///
/// `langfuse` posts to `{LANGFUSE_HOST}/api/public/otel/v1/traces` (host default
/// `https://cloud.langfuse.com`) with Basic auth `LANGFUSE_PUBLIC_KEY:LANGFUSE_SECRET_KEY`;
/// timing and batching as above (`LANGFUSE_FLUSH_INTERVAL` seconds overrides the delay);
/// always `http/protobuf`, as LiteLLM's Langfuse exporter sends (the OTel variables, the
/// protocol's included, configure the `otel` callback only).
struct OTLPExporterSettings {
    /// How spans are encoded on the wire.
    enum WireProtocol: Sendable {
        /// `http/protobuf`: the binary protobuf encoding, `application/x-protobuf`.
        case protobuf
        /// `http/json`: the protobuf JSON mapping, `application/json`.
        case json

        var contentType: String { self == .protobuf ? "application/x-protobuf" : "application/json" }
        var name: String { self == .protobuf ? "http/protobuf" : "http/json" }
    }

    var endpoint: String
    var headers: [(String, String)]
    var resource: [(String, String)]
    var timeout: TimeAmount
    var interval: Duration
    var batchSize: Int
    var capacity: Int
    var wireProtocol: WireProtocol = .protobuf
    var warnings: [String] = []

    static let defaultEndpoint = "http://localhost:4318/v1/traces"

    /// The `otel` callback's settings.
    static func otel(environment env: [String: String]) -> OTLPExporterSettings {
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { env[$0] }.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        let endpoint: String
        if let traces = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            endpoint = traces
        } else if let base = value("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_ENDPOINT") {
            endpoint = appendingTracesPath(base)
        } else {
            endpoint = defaultEndpoint
        }
        var s = common(env)
        s.endpoint = endpoint
        s.headers = headers(value("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_HEADERS"))
        switch value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")?.trimmingCharacters(in: .whitespaces) {
        case nil, "http/protobuf": s.wireProtocol = .protobuf
        case "http/json": s.wireProtocol = .json
        case let p?:
            s.wireProtocol = .protobuf
            s.warnings.append("OTEL_EXPORTER_OTLP_PROTOCOL=\(p): Switchboard exports OTLP over HTTP, as http/protobuf (the default) or http/json; sending http/protobuf")
        }
        if let t = value("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT").flatMap(Int.init), t > 0 {
            s.timeout = .milliseconds(Int64(t))
        }
        return s
    }

    /// The `langfuse` callback's settings; `nil` (with the reason) without its keys.
    static func langfuse(environment env: [String: String]) -> Result<OTLPExporterSettings, LangfuseKeysMissing> {
        guard let pk = env["LANGFUSE_PUBLIC_KEY"], !pk.isEmpty, let sk = env["LANGFUSE_SECRET_KEY"], !sk.isEmpty else {
            return .failure(LangfuseKeysMissing())
        }
        var host = env["LANGFUSE_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://cloud.langfuse.com"
        while host.hasSuffix("/") { host.removeLast() }
        var s = common(env)
        s.endpoint = host + "/api/public/otel/v1/traces"
        s.headers = [("Authorization", "Basic " + Data("\(pk):\(sk)".utf8).base64EncodedString())]
        if let seconds = env["LANGFUSE_FLUSH_INTERVAL"].flatMap(Double.init), seconds > 0 {
            s.interval = .milliseconds(Int(seconds * 1000))
        }
        return .success(s)
    }

    struct LangfuseKeysMissing: Error {}

    /// Service name, resource attributes and the batch processor's variables.
    private static func common(_ env: [String: String]) -> OTLPExporterSettings {
        var resource = [("service.name", env["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "switchboard")]
        for (k, v) in headers(env["OTEL_RESOURCE_ATTRIBUTES"]) where k != "service.name" || env["OTEL_SERVICE_NAME"] == nil {
            resource.removeAll { $0.0 == k }
            resource.append((k, v))
        }
        resource.append(("telemetry.sdk.name", "switchboard"))
        func milliseconds(_ name: String, _ fallback: Int) -> Int {
            env[name].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? fallback
        }
        // LiteLLM's DEFAULT_FLUSH_INTERVAL_SECONDS (every batch logger) when the OTel variable is not set.
        let flush = env["DEFAULT_FLUSH_INTERVAL_SECONDS"].flatMap(Double.init).flatMap { $0 > 0 ? Int($0 * 1000) : nil } ?? 5000
        return OTLPExporterSettings(
            endpoint: defaultEndpoint, headers: [], resource: resource, timeout: .seconds(10),
            interval: .milliseconds(max(1, milliseconds("OTEL_BSP_SCHEDULE_DELAY", flush))),
            batchSize: milliseconds("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512), capacity: milliseconds("OTEL_BSP_MAX_QUEUE_SIZE", 2048))
    }

    /// `http://collector:4318` → `http://collector:4318/v1/traces` (kept when already there).
    static func appendingTracesPath(_ base: String) -> String {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        return b.hasSuffix("/v1/traces") ? b : b + "/v1/traces"
    }

    /// `k=v,k2=v2` (W3C baggage form, values percent-encoded) → pairs.
    static func headers(_ text: String?) -> [(String, String)] {
        (text ?? "").split(separator: ",").compactMap { pair in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
            let raw = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            return name.isEmpty ? nil : (name, raw.removingPercentEncoding ?? raw)
        }
    }
}
