import NIOHTTP1
import Providers

/// The routes a worker serves. Matched once per request from the path.
enum Route: Equatable {
    case modelCall(Endpoint, pathModel: String?)
    case listModels
    case modelInfo
    case liveliness
    case readiness
    /// `GET /metrics`: Prometheus text for the whole gateway.
    case metrics
    /// `GET /openapi.json`.
    case openAPI
    /// `GET /`: the Swagger UI page.
    case docs
    /// `POST /utils/token_counter`.
    case tokenCounter
    case notFound

    /// Matches a request path (query string already removed).
    static func match(_ path: Substring) -> Route {
        switch path {
        case "/chat/completions", "/v1/chat/completions": return .modelCall(.chatCompletions, pathModel: nil)
        case "/completions", "/v1/completions": return .modelCall(.completions, pathModel: nil)
        case "/embeddings", "/v1/embeddings": return .modelCall(.embeddings, pathModel: nil)
        case "/models", "/v1/models": return .listModels
        case "/model/info", "/v1/model/info": return .modelInfo
        case "/health/liveliness", "/health/liveness": return .liveliness
        case "/health/readiness": return .readiness
        case "/metrics", "/metrics/": return .metrics
        case "/openapi.json": return .openAPI
        case "/utils/token_counter": return .tokenCounter
        case "/": return .docs
        default: break
        }
        // Azure-style: /openai/deployments/{model}/chat/completions (also with /v1 in front).
        var rest = path
        if rest.hasPrefix("/v1/") { rest = rest.dropFirst(3) }
        if rest.hasPrefix("/openai/deployments/") || rest.hasPrefix("/engines/") {
            rest = rest.hasPrefix("/engines/") ? rest.dropFirst("/engines/".count) : rest.dropFirst("/openai/deployments/".count)
            guard let slash = rest.firstIndex(of: "/") else { return .notFound }
            let model = String(rest[..<slash]).removingPercentEncoding
            switch rest[slash...] {
            case "/chat/completions": return .modelCall(.chatCompletions, pathModel: model)
            case "/completions": return .modelCall(.completions, pathModel: model)
            case "/embeddings": return .modelCall(.embeddings, pathModel: model)
            default: return .notFound
            }
        }
        return .notFound
    }

    /// The method the route takes.
    var method: HTTPMethod {
        switch self {
        case .modelCall, .tokenCounter: return .POST
        default: return .GET
        }
    }

    /// Routes that answer without the master key (`/metrics` too when
    /// `require_auth_for_metrics_endpoint: false`; see ``HTTPGatewayHandler``).
    var isPublic: Bool {
        switch self {
        case .liveliness, .readiness, .openAPI, .docs: return true
        default: return false
        }
    }
}

extension String {
    /// Decodes `%XX` escapes (invalid ones are kept as they are).
    var removingPercentEncoding: String {
        guard contains("%") else { return self }
        var out: [UInt8] = []
        var it = Array(utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%"), it.count >= 2,
               let h = hexDigit(it[it.startIndex]), let l = hexDigit(it[it.startIndex + 1]) {
                out.append(h << 4 | l)
                it = it.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}
