import Foundation
import NIOCore
import NIOPosix
import OpenAIWire
import Synchronization

/// HashiCorp Vault on a loopback port, as far as the gateway uses it: KV version 2 reads
/// (`GET /v1/{mount}/data/{path}`, answered `{"data": {"data": {...}, "metadata": {...}}}`),
/// checked against `X-Vault-Token` (403 `permission denied` otherwise) and, when ``namespace`` is
/// set, `X-Vault-Namespace`; AppRole login (`POST /v1/auth/approle/login` with `role_id` and
/// `secret_id`, answered with `auth.client_token`). Secrets can be changed while it runs.
public final class FakeVaultServer: Sendable {
    public let token: String
    public let namespace: String?
    public let appRole: (roleID: String, secretID: String)?
    /// The token an AppRole login hands out.
    public let appRoleToken = "hvs.approle-" + UUID().uuidString
    private let server: FakeOpenAIServer
    /// `mount/path` → fields.
    private let secrets = Mutex<[String: [String: String]]>([:])
    private let delay = Mutex<TimeAmount>(.zero)

    public init(token: String = "hvs.root-token", namespace: String? = nil, appRole: (roleID: String, secretID: String)? = nil) async throws {
        self.token = token
        self.namespace = namespace
        self.appRole = appRole
        let box = Mutex<FakeVaultServer?>(nil)
        server = try await FakeOpenAIServer { request in
            box.withLock { $0 }?.answer(request) ?? .json(status: 503, body: "{}")
        }
        box.withLock { $0 = self }
    }

    /// `http://127.0.0.1:PORT` (`HCP_VAULT_ADDR`).
    public var address: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }

    /// Sets the secret at `path` in the KV v2 `mount` (LiteLLM reads the field `key`).
    public func setSecret(_ path: String, fields: [String: String], mount: String = "secret") {
        secrets.withLock { $0["\(mount)/\(path)"] = fields }
    }

    /// Secret reads are answered this much later (the head at once, the JSON after `by`): a slow Vault.
    public func delayReads(by: TimeAmount) { delay.withLock { $0 = by } }

    func answer(_ request: RecordedRequest) -> FakeResponse {
        let path = request.path
        if let namespace, request.header("x-vault-namespace") != namespace {
            return .json(status: 403, body: #"{"errors":["permission denied"]}"#)
        }
        if request.method == "POST", path.hasPrefix("/v1/auth/"), path.hasSuffix("/login") {
            guard let appRole, request.header("content-type") == "application/json",
                  request.json?["role_id"]?.stringValue == appRole.roleID,
                  request.json?["secret_id"]?.stringValue == appRole.secretID else {
                return .json(status: 400, body: #"{"errors":["invalid role or secret ID"]}"#)
            }
            return .json(status: 200, body: #"{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":null,"auth":{"client_token":"\#(appRoleToken)","policies":["default"],"lease_duration":2764800,"renewable":true}}"#)
        }
        guard request.method == "GET", path.hasPrefix("/v1/"), let range = path.range(of: "/data/") else {
            return .json(status: 404, body: #"{"errors":["no handler for route"]}"#)
        }
        let presented = request.header("x-vault-token")
        guard presented == token || (appRole != nil && presented == appRoleToken) else {
            return .json(status: 403, body: #"{"errors":["permission denied"]}"#)
        }
        let mount = path[path.index(path.startIndex, offsetBy: 4)..<range.lowerBound]
        let key = "\(mount)/\(String(path[range.upperBound...]).removingPercentEncoding ?? "")"
        guard let fields = secrets.withLock({ $0[key] }) else { return .json(status: 404, body: #"{"errors":[]}"#) }
        let data = JSONValue.object(fields.keys.sorted().map { JSONMember($0, .string(fields[$0]!)) }).jsonText
        let wait = delay.withLock { $0 }
        if wait > .zero {
            return .chunked(contentType: "application/json", pieces: [" ", Self.readAnswer(data)], delay: wait)
        }
        return .json(status: 200, body: Self.readAnswer(data))
    }

    static func readAnswer(_ data: String) -> String {
        #"{"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":\#(data),"metadata":{"created_time":"2026-01-01T00:00:00Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}},"wrap_info":null,"warnings":null,"auth":null,"mount_type":"kv"}"#
    }
}
