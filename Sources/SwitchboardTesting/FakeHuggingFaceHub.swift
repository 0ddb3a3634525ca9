/// The Hugging Face hub's file download on a loopback port, as `HF_ENDPOINT` for tests:
/// `GET /{owner}/{name}/resolve/{revision}/tokenizer.json` answers `302` to the file's CDN address
/// (here `/cdn/...` on the same server, as the hub redirects to its CDN), which answers the file.
/// A repo with a token is gated: without `Authorization: Bearer <token>` the hub answers 401
/// with its JSON error; an unknown repo or revision is 404 (`Entry not found`).
public final class FakeHuggingFaceHub: Sendable {
    public let server: FakeOpenAIServer

    /// - Parameters:
    ///   - repos: `tokenizer.json` text by repo id (`owner/name`), at revision `main` and any other.
    ///   - tokens: the token a gated repo requires, by repo id.
    public init(repos: [String: String], tokens: [String: String] = [:]) async throws {
        server = try await FakeOpenAIServer { request in FakeHuggingFaceHub.answer(request, repos: repos, tokens: tokens) }
    }

    /// `http://127.0.0.1:PORT`, what `HF_ENDPOINT` takes.
    public var endpoint: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    /// Requests for a repo's file (not the CDN's).
    public var resolveRequests: [RecordedRequest] { requests.filter { $0.uri.contains("/resolve/") } }
    public func shutdown() async { await server.shutdown() }

    static func answer(_ request: RecordedRequest, repos: [String: String], tokens: [String: String]) -> FakeResponse {
        guard request.method == "GET" else { return .json(status: 405, body: #"{"error":"Method not allowed"}"#) }
        let parts = request.uri.split(separator: "/").map(String.init)
        if parts.first == "cdn", parts.count >= 4 {
            let repo = parts[1...].dropLast(2).joined(separator: "/")
            guard let body = repos[repo] else { return .json(status: 404, body: "NoSuchKey") }
            return .json(status: 200, body: body, headers: [("etag", "\"\(body.utf8.count)\"")])
        }
        guard let resolve = parts.firstIndex(of: "resolve"), resolve + 2 < parts.count, parts.last == "tokenizer.json" else {
            return .json(status: 404, body: #"{"error":"Repository not found"}"#)
        }
        let repo = parts[..<resolve].joined(separator: "/")
        let revision = parts[resolve + 1]
        guard repos[repo] != nil else {
            return .json(status: 401, body: #"{"error":"Repository Not Found for url: \#(request.uri)."}"#, headers: [("x-error-code", "RepoNotFound")])
        }
        if let token = tokens[repo], request.header("authorization") != "Bearer \(token)" {
            return .json(status: 401, body: #"{"error":"Access to model \#(repo) is restricted. You must have access to it and be authenticated to access it. Please log in."}"#, headers: [("x-error-code", "GatedRepo")])
        }
        return .json(status: 302, body: "", headers: [("location", "/cdn/\(repo)/\(revision)/tokenizer.json")])
    }
}

/// A static file server on a loopback port (a blob store: the tiktoken rank files' host, as
/// `SWITCHBOARD_TIKTOKEN_BASE_URL` for tests). Unknown paths are 404.
public final class FakeBlobStore: Sendable {
    public let server: FakeOpenAIServer

    /// - Parameter files: bodies by path (`/encodings/o200k_base.tiktoken`).
    public init(files: [String: String]) async throws {
        server = try await FakeOpenAIServer { request in
            guard request.method == "GET", let body = files[request.uri] else {
                return .json(status: 404, body: "<?xml version=\"1.0\"?><Error><Code>BlobNotFound</Code></Error>")
            }
            return .json(status: 200, body: body)
        }
    }

    public var baseURL: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }
}
