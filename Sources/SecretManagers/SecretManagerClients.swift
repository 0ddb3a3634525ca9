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

    /// `secrets: OPENAI_KEY, MASTER_KEY read from HashiCorp Vault` (names only, never values).
    public static func summary(_ secrets: ResolvedSecrets, system: KeyManagementSystem) -> String {
        let names = secrets.values.keys.sorted()
        if names.isEmpty { return "secrets: no os.environ/ value found in \(system.displayName); all come from the environment" }
        return "secrets: \(names.joined(separator: ", ")) read from \(system.displayName)"
    }
}
