import Foundation
import NIOCore
import OpenAIWire
import Synchronization

/// A GCE metadata server's token endpoint and Google Secret Manager on one loopback port:
/// `GET /computeMetadata/v1/instance/service-accounts/default/token` (needs `Metadata-Flavor:
/// Google`) and `GET /v1/projects/{project}/secrets/{name}/versions/latest:access` (checks the
/// bearer token it issued; answers `payload.data` in base64; 404 `NOT_FOUND` for an unknown secret).
public final class FakeGoogleSecretManagerServer: Sendable {
    public let project: String
    public let issuedToken = "ya29.fake-" + UUID().uuidString
    private let server: FakeOpenAIServer
    private let secrets = Mutex<[String: String]>([:])

    public init(project: String = "switchboard-test") async throws {
        self.project = project
        let box = Mutex<FakeGoogleSecretManagerServer?>(nil)
        server = try await FakeOpenAIServer { request in
            box.withLock { $0 }?.answer(request) ?? .json(status: 503, body: "{}")
        }
        box.withLock { $0 = self }
    }

    /// `127.0.0.1:PORT` (`GCE_METADATA_HOST`).
    public var metadataHost: String { "127.0.0.1:\(server.port)" }
    /// `http://127.0.0.1:PORT` (`GOOGLE_SECRET_MANAGER_ENDPOINT`).
    public var url: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }

    public func setSecret(_ name: String, _ value: String) { secrets.withLock { $0[name] = value } }

    func answer(_ request: RecordedRequest) -> FakeResponse {
        let path = request.path
        if path == "/computeMetadata/v1/instance/service-accounts/default/token" {
            guard request.header("metadata-flavor") == "Google" else {
                return .json(status: 403, body: #"{"error":"Missing Metadata-Flavor:Google header."}"#)
            }
            return .json(status: 200, body: #"{"access_token":"\#(issuedToken)","expires_in":3599,"token_type":"Bearer"}"#)
        }
        guard request.header("authorization") == "Bearer \(issuedToken)" else {
            return .json(status: 401, body: #"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#)
        }
        let prefix = "/v1/projects/\(project)/secrets/"
        let suffix = "/versions/latest:access"
        guard request.method == "GET", path.hasPrefix(prefix), path.hasSuffix(suffix) else {
            return .json(status: 404, body: #"{"error":{"code":404,"message":"Not found: \#(path)","status":"NOT_FOUND"}}"#)
        }
        let name = String(path.dropFirst(prefix.count).dropLast(suffix.count))
        guard let value = secrets.withLock({ $0[name] }) else {
            return .json(status: 404, body: #"{"error":{"code":404,"message":"Secret [projects/\#(project)/secrets/\#(name)] not found or has no versions.","status":"NOT_FOUND"}}"#)
        }
        return .json(status: 200, body: #"{"name":"projects/\#(project)/secrets/\#(name)/versions/1","payload":{"data":"\#(Data(value.utf8).base64EncodedString())"}}"#)
    }
}
