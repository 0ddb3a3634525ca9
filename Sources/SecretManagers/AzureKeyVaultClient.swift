import Foundation
import CloudAuth
import NIOCore
import OpenAIWire
import Synchronization
import SwitchboardConfig

/// Azure Key Vault (`key_management_system: azure_key_vault`):
/// `GET {AZURE_KEY_VAULT_URI}/secrets/{name}?api-version=7.4` with a Microsoft Entra token for
/// `https://vault.azure.net/.default`, taken with the client-credentials grant from
/// `{AZURE_AUTHORITY_HOST}/{AZURE_TENANT_ID}/oauth2/v2.0/token` (authority default
/// `https://login.microsoftonline.com`): `AZURE_CLIENT_ID` with `AZURE_CLIENT_SECRET`, or with
/// `AZURE_FEDERATED_TOKEN_FILE` (workload identity, a JWT client assertion), as
/// `DefaultAzureCredential` reads them.
///
/// The name is sent as written, as LiteLLM does (its docs write `os.environ/AZURE-API-KEY`): Key
/// Vault names hold only letters, digits and dashes, so a name with anything else (an underscore)
/// cannot be in the vault and falls back to the environment without a request, which is where
/// LiteLLM ends up after the vault refuses it.
public struct AzureKeyVaultClient: SecretManagerClient {
    public let system = KeyManagementSystem.azureKeyVault
    public let configurationVariables: Set<String> = [
        "AZURE_KEY_VAULT_URI", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST",
        "AZURE_FEDERATED_TOKEN_FILE",
    ]
    static let scope = "https://vault.azure.net/.default"
    static let apiVersion = "7.4"

    enum ClientCredential: Sendable {
        case secret(String)
        case federatedTokenFile(String)
    }

    let vault: String
    let tokenURL: String
    let clientID: String
    let credential: ClientCredential
    let fetcher: HTTPFetcher
    private let accessToken = Once<String>()

    public var location: String { vault }

    public init(environment: [String: String], fetcher: HTTPFetcher) throws(SecretManagerFailure) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let vault = value("AZURE_KEY_VAULT_URI") else {
            throw SecretManagerFailure("AZURE_KEY_VAULT_URI is not set (the vault's URL, https://NAME.vault.azure.net)")
        }
        guard let tenant = value("AZURE_TENANT_ID"), let clientID = value("AZURE_CLIENT_ID") else {
            throw SecretManagerFailure("AZURE_TENANT_ID and AZURE_CLIENT_ID must be set (with AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE)")
        }
        if let secret = value("AZURE_CLIENT_SECRET") {
            credential = .secret(secret)
        } else if let file = value("AZURE_FEDERATED_TOKEN_FILE") {
            credential = .federatedTokenFile(file)
        } else {
            throw SecretManagerFailure("AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE must be set")
        }
        self.vault = trimmedBase(vault)
        self.clientID = clientID
        let authority = trimmedBase(value("AZURE_AUTHORITY_HOST") ?? "https://login.microsoftonline.com")
        tokenURL = "\(authority)/\(URLEncoding.encode(tenant))/oauth2/v2.0/token"
        self.fetcher = fetcher
    }

    /// Whether Key Vault can hold a secret of this name (1–127 letters, digits and dashes).
    static func isVaultName(_ name: String) -> Bool {
        (1...127).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "-")
        }
    }

    public func read(_ name: String) async throws(SecretManagerFailure) -> String? {
        guard Self.isVaultName(name) else { return nil }
        let url = "\(vault)/secrets/\(name)?api-version=\(Self.apiVersion)"
        let response = try await fetcher.exchange(
            HTTPFetchRequest(method: "GET", url: url, headers: [("Authorization", "Bearer \(try await token())")]),
            purpose: "GET \(url)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw .status(response, message: Self.errorMessage(response)) }
        guard let value = response.json?["value"]?.stringValue else {
            throw SecretManagerFailure("the answer has no \"value\"")
        }
        return value
    }

    private func token() async throws(SecretManagerFailure) -> String {
        try await accessToken.value { [self] in try await requestToken() }
    }

    private func requestToken() async throws(SecretManagerFailure) -> String {
        var fields = [("grant_type", "client_credentials"), ("client_id", clientID), ("scope", Self.scope)]
        switch credential {
        case .secret(let secret):
            fields.append(("client_secret", secret))
        case .federatedTokenFile(let path):
            guard let assertion = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SecretManagerFailure("cannot read AZURE_FEDERATED_TOKEN_FILE \(path)")
            }
            fields.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            fields.append(("client_assertion", assertion.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let request = HTTPFetchRequest(method: "POST", url: tokenURL,
                                        headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                        body: ByteBuffer(string: URLEncoding.form(fields)))
        let response = try await fetcher.exchange(request, purpose: "token request (POST \(tokenURL))")
        guard response.status == 200 else {
            let json = response.json
            let message = json?["error_description"]?.stringValue ?? json?["error"]?.stringValue
            throw SecretManagerFailure("token request (POST \(tokenURL)): " + SecretManagerFailure.status(response, message: message).description)
        }
        guard let token = response.json?["access_token"]?.stringValue, !token.isEmpty else {
            throw SecretManagerFailure("token request (POST \(tokenURL)): the answer has no access_token")
        }
        return token
    }

    /// Key Vault's `{"error": {"code", "message"}}`.
    static func errorMessage(_ response: HTTPFetchResponse) -> String? {
        guard let error = response.json?["error"] else { return nil }
        return [error["code"]?.stringValue, error["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
    }
}
