import CloudAuth
import NIOCore
import OpenAIWire
import Synchronization
import SwitchboardConfig

/// HashiCorp Vault, KV version 2 (`key_management_system: hashicorp_vault`), as LiteLLM reads it:
/// `GET {HCP_VAULT_ADDR}/v1/{mount}/data/{prefix/}{name}` with `X-Vault-Token`, the value being
/// the secret's `key` field (`data.data.key`).
///
/// Environment (LiteLLM's names): `HCP_VAULT_ADDR` (default `http://127.0.0.1:8200`),
/// `HCP_VAULT_TOKEN`, or AppRole (`HCP_VAULT_APPROLE_ROLE_ID`, `HCP_VAULT_APPROLE_SECRET_ID`,
/// `HCP_VAULT_APPROLE_MOUNT_PATH`, default `approle`: `POST /v1/auth/{mount}/login`);
/// `HCP_VAULT_NAMESPACE` (sent as `X-Vault-Namespace`; `HCP_VAULT_LOGIN_NAMESPACE` and
/// `HCP_VAULT_SECRET_NAMESPACE` override it for the login and the reads),
/// `HCP_VAULT_MOUNT_NAME` (default `secret`), `HCP_VAULT_PATH_PREFIX`.
public struct HashiCorpVaultClient: SecretManagerClient {
    public let system = KeyManagementSystem.hashicorpVault
    public let configurationVariables: Set<String> = [
        "HCP_VAULT_ADDR", "HCP_VAULT_TOKEN", "HCP_VAULT_NAMESPACE", "HCP_VAULT_LOGIN_NAMESPACE", "HCP_VAULT_SECRET_NAMESPACE",
        "HCP_VAULT_MOUNT_NAME", "HCP_VAULT_PATH_PREFIX", "HCP_VAULT_APPROLE_ROLE_ID", "HCP_VAULT_APPROLE_SECRET_ID",
        "HCP_VAULT_APPROLE_MOUNT_PATH", "HCP_VAULT_REFRESH_INTERVAL", "HCP_VAULT_CLIENT_CERT", "HCP_VAULT_CLIENT_KEY",
        "HCP_VAULT_CERT_ROLE",
    ]

    enum Login: Sendable {
        case token(String)
        case appRole(roleID: String, secretID: String, mount: String)
    }

    let address: String
    let login: Login
    let loginNamespace: String?
    let secretNamespace: String?
    let mount: String
    let prefix: String
    let fetcher: HTTPFetcher
    /// The AppRole login's token, shared by the reads of one resolution.
    private let loggedIn = Once<String>()

    public var location: String { address }

    public init(environment: [String: String], fetcher: HTTPFetcher) throws(SecretManagerFailure) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        address = trimmedBase(value("HCP_VAULT_ADDR") ?? "http://127.0.0.1:8200")
        if value("HCP_VAULT_CLIENT_CERT") != nil {
            throw SecretManagerFailure("HCP_VAULT_CLIENT_CERT is set, but TLS certificate login is not supported; use HCP_VAULT_TOKEN or AppRole (HCP_VAULT_APPROLE_ROLE_ID, HCP_VAULT_APPROLE_SECRET_ID)")
        }
        if let roleID = value("HCP_VAULT_APPROLE_ROLE_ID"), let secretID = value("HCP_VAULT_APPROLE_SECRET_ID") {
            login = .appRole(roleID: roleID, secretID: secretID,
                             mount: (value("HCP_VAULT_APPROLE_MOUNT_PATH") ?? "approle").trimmingSlashes)
        } else if let token = value("HCP_VAULT_TOKEN") {
            login = .token(token)
        } else {
            throw SecretManagerFailure("no Vault credentials: set HCP_VAULT_TOKEN, or HCP_VAULT_APPROLE_ROLE_ID and HCP_VAULT_APPROLE_SECRET_ID")
        }
        let namespace = value("HCP_VAULT_NAMESPACE")
        loginNamespace = value("HCP_VAULT_LOGIN_NAMESPACE") ?? namespace
        secretNamespace = value("HCP_VAULT_SECRET_NAMESPACE") ?? namespace
        mount = (value("HCP_VAULT_MOUNT_NAME") ?? "secret").trimmingSlashes
        prefix = (value("HCP_VAULT_PATH_PREFIX") ?? "").trimmingSlashes
        self.fetcher = fetcher
    }

    /// `{address}/v1/{mount}/data/{prefix/}{name}`.
    func secretURL(_ name: String) -> String {
        let path = (prefix.isEmpty ? [] : [prefix]) + [URLEncoding.encode(name, keepSlash: true)]
        return "\(address)/v1/\(mount)/data/\(path.joined(separator: "/"))"
    }

    public func read(_ name: String) async throws(SecretManagerFailure) -> String? {
        var headers: [(name: String, value: String)] = [("X-Vault-Token", try await token())]
        if let secretNamespace { headers.append(("X-Vault-Namespace", secretNamespace)) }
        let response = try await fetcher.exchange(HTTPFetchRequest(method: "GET", url: secretURL(name), headers: headers),
                                                    purpose: "GET \(secretURL(name))")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw .status(response, message: Self.errors(response)) }
        guard let data = response.json?["data"]?["data"] else {
            throw SecretManagerFailure("the answer has no data.data (is \(mount) a KV version 2 mount?)")
        }
        // LiteLLM stores and reads every secret under the field "key"; without it the secret is absent.
        return data["key"]?.stringValue
    }

    private func token() async throws(SecretManagerFailure) -> String {
        guard case .appRole(let roleID, let secretID, let loginMount) = login else {
            if case .token(let token) = login { return token }
            return ""
        }
        return try await loggedIn.value { [fetcher, address, loginNamespace] in
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
            if let loginNamespace { headers.append(("X-Vault-Namespace", loginNamespace)) }
            let body = JSONValue.object([JSONMember("role_id", .string(roleID)), JSONMember("secret_id", .string(secretID))])
            let url = "\(address)/v1/auth/\(loginMount)/login"
            let response = try await fetcher.exchange(
                HTTPFetchRequest(method: "POST", url: url, headers: headers, body: ByteBuffer(string: body.jsonText)),
                purpose: "AppRole login (POST \(url))")
            guard response.status == 200 else {
                throw SecretManagerFailure("AppRole login (POST \(url)): " + SecretManagerFailure.status(response, message: Self.errors(response)).description)
            }
            guard let token = response.json?["auth"]?["client_token"]?.stringValue, !token.isEmpty else {
                throw SecretManagerFailure("AppRole login (POST \(url)): the answer has no auth.client_token")
            }
            return token
        }
    }

    /// Vault's `{"errors": [...]}`.
    static func errors(_ response: HTTPFetchResponse) -> String? {
        response.json?["errors"]?.arrayValue?.compactMap(\.stringValue).joined(separator: "; ")
    }
}

extension String {
    var trimmingSlashes: String {
        var text = Substring(self)
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}
