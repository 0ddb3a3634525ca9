import CloudAuth
import NIOCore
import OpenAIWire
import SwitchboardConfig

/// Azure Key Vault (`key_management_system: azure_key_vault`):
/// `GET {AZURE_KEY_VAULT_URI}/secrets/{name}?api-version=7.4` with a Microsoft Entra token for
/// `https://vault.azure.net` (``AzureAccessTokenSource``: a service principal's secret, workload
/// identity or managed identity, as `DefaultAzureCredential` finds them), taken once per load.
///
/// The name is sent as written, as LiteLLM does (its docs write `os.environ/AZURE-API-KEY`): Key
/// Vault names hold only letters, digits and dashes, so a name with anything else (an underscore)
/// cannot be in the vault and falls back to the environment without a request, which is where
/// LiteLLM ends up after the vault refuses it.
public struct AzureKeyVaultClient: SecretManagerClient {
    public let system = KeyManagementSystem.azureKeyVault
    public let configurationVariables = AzureAccessTokenSource.variables.union(["AZURE_KEY_VAULT_URI"])
    static let resource = "https://vault.azure.net"
    static let apiVersion = "7.4"

    let vault: String
    let tokens: AzureAccessTokenSource
    let fetcher: HTTPFetcher
    private let accessToken = Once<String>()

    public var location: String { vault }

    public init(environment: [String: String], fetcher: HTTPFetcher) throws(SecretManagerFailure) {
        guard let vault = environment["AZURE_KEY_VAULT_URI"], !vault.isEmpty else {
            throw SecretManagerFailure("AZURE_KEY_VAULT_URI is not set (the vault's URL, https://NAME.vault.azure.net)")
        }
        self.vault = trimmedBase(vault)
        tokens = AzureAccessTokenSource(environment: environment, resource: Self.resource, fetcher: fetcher)
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
        try await accessToken.value { [tokens] in try await tokens.accessToken() }
    }

    /// Key Vault's `{"error": {"code", "message"}}`.
    static func errorMessage(_ response: HTTPFetchResponse) -> String? {
        guard let error = response.json?["error"] else { return nil }
        return [error["code"]?.stringValue, error["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
    }
}
