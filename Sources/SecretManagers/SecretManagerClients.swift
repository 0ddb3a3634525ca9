import CloudAuth
import SwitchboardConfig

/// The client for a config's `key_management_system`.
public enum SecretManagerClients {
    /// A resolver speaking to the real services (or their endpoint overrides) through `fetcher`.
    public static func resolver(fetcher: HTTPFetcher = HTTPFetcher()) -> SecretManagerResolver {
        SecretManagerResolver { settings, environment throws(SecretManagerFailure) in
            try make(settings: settings, environment: environment, fetcher: fetcher)
        }
    }

    public static func make(
        settings: SecretManagerSettings, environment: [String: String], fetcher: HTTPFetcher
    ) throws(SecretManagerFailure) -> any SecretManagerClient {
        switch settings.system {
        case .hashicorpVault:
            return try HashiCorpVaultClient(environment: environment, fetcher: fetcher)
        case .azureKeyVault:
            return try AzureKeyVaultClient(environment: environment, fetcher: fetcher)
        case .awsSecretManager:
            return try AWSSecretsManagerClient(settings: settings, environment: environment, fetcher: fetcher)
        case .googleSecretManager:
            return try GoogleSecretManagerClient(environment: environment, fetcher: fetcher)
        }
    }
}
