import Foundation
import NIOCore
import OpenAIWire
import Synchronization

/// Microsoft Entra's token endpoint, the managed identity endpoints and an Azure Key Vault on one
/// loopback port: `POST /{tenant}/oauth2/v2.0/token` (client-credentials grant, form-encoded;
/// checks tenant, client id, secret and the Key Vault scope; `invalid_client` otherwise), the
/// instance metadata service `GET /metadata/identity/oauth2/token` (needs `Metadata: true`) and
/// App Service's `GET /msi/token` (needs `X-IDENTITY-HEADER`), both for resource
/// `https://vault.azure.net`, and `GET
/// /secrets/{name}?api-version=…` (checks the bearer token it issued and the api-version; 404
/// `SecretNotFound` for an unknown name). Secrets can be changed while it runs.
public final class FakeAzureKeyVaultServer: Sendable {
    public let tenant: String
    public let clientID: String
    public let clientSecret: String
    /// What App Service's identity endpoint expects in `X-IDENTITY-HEADER`.
    public let identityHeader = "identity-header-" + UUID().uuidString
    /// The access token the endpoint issues.
    public let issuedToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fake-" + UUID().uuidString
    private let server: FakeOpenAIServer
    private let secrets = Mutex<[String: String]>([:])

    public init(tenant: String = "00000000-0000-4000-8000-00000000beef", clientID: String = "client-1",
                clientSecret: String = "azure-client-secret") async throws {
        self.tenant = tenant
        self.clientID = clientID
        self.clientSecret = clientSecret
        let box = Mutex<FakeAzureKeyVaultServer?>(nil)
        server = try await FakeOpenAIServer { request in
            box.withLock { $0 }?.answer(request) ?? .json(status: 503, body: "{}")
        }
        box.withLock { $0 = self }
    }

    /// `http://127.0.0.1:PORT`: both `AZURE_AUTHORITY_HOST` and `AZURE_KEY_VAULT_URI`.
    public var url: String { "http://127.0.0.1:\(server.port)" }
    public var requests: [RecordedRequest] { server.requests }
    public func shutdown() async { await server.shutdown() }

    public func setSecret(_ name: String, _ value: String) { secrets.withLock { $0[name] = value } }

    func answer(_ request: RecordedRequest) -> FakeResponse {
        let path = request.path
        if request.method == "GET", path == "/metadata/identity/oauth2/token" || path == "/msi/token" {
            let query = request.queryFields
            let imds = path.hasPrefix("/metadata/")
            guard imds ? request.header("metadata") == "true" : request.header("x-identity-header") == identityHeader else {
                return .json(status: 400, body: #"{"error":"invalid_request","error_description":"Required metadata header not specified"}"#)
            }
            guard query["api-version"] == (imds ? "2018-02-01" : "2019-08-01"), query["resource"] == "https://vault.azure.net" else {
                return .json(status: 400, body: #"{"error":"invalid_resource","error_description":"bad api-version or resource"}"#)
            }
            return .json(status: 200, body: #"{"access_token":"\#(issuedToken)","expires_in":"86399","resource":"https://vault.azure.net","token_type":"Bearer","client_id":"\#(query["client_id"] ?? "system-assigned")"}"#)
        }
        if request.method == "POST", path == "/\(tenant)/oauth2/v2.0/token" {
            let form = request.formFields
            guard request.header("content-type") == "application/x-www-form-urlencoded",
                  form["grant_type"] == "client_credentials", form["scope"] == "https://vault.azure.net/.default" else {
                return .json(status: 400, body: #"{"error":"invalid_request","error_description":"AADSTS900144: bad grant or scope"}"#)
            }
            guard form["client_id"] == clientID, form["client_secret"] == clientSecret else {
                return .json(status: 401, body: #"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#)
            }
            return .json(status: 200, body: #"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"\#(issuedToken)"}"#)
        }
        guard request.method == "GET", path.hasPrefix("/secrets/") else {
            return .json(status: 404, body: #"{"error":{"code":"NotFound","message":"no such route"}}"#)
        }
        guard request.header("authorization") == "Bearer \(issuedToken)" else {
            return .json(status: 401, body: #"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#)
        }
        guard request.uri.hasSuffix("?api-version=7.4") else {
            return .json(status: 400, body: #"{"error":{"code":"BadParameter","message":"The specified version is not supported"}}"#)
        }
        let name = String(path.dropFirst("/secrets/".count))
        guard let value = secrets.withLock({ $0[name] }) else {
            return .json(status: 404, body: #"{"error":{"code":"SecretNotFound","message":"A secret with (name/id) \#(name) was not found in this key vault."}}"#)
        }
        return .json(status: 200, body: JSONValue.object([
            JSONMember("value", .string(value)), JSONMember("id", .string("\(url)/secrets/\(name)/0123456789abcdef")),
            JSONMember("attributes", .object([JSONMember("enabled", .bool(true))])),
        ]).jsonText)
    }
}
