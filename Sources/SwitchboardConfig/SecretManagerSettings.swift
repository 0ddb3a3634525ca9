import OpenAIWire

/// A secret manager that `os.environ/NAME` values are read from
/// (`general_settings.key_management_system`, named as LiteLLM names them).
public enum KeyManagementSystem: String, Sendable, CaseIterable {
    case awsSecretManager = "aws_secret_manager"
    case azureKeyVault = "azure_key_vault"
    case googleSecretManager = "google_secret_manager"
    case hashicorpVault = "hashicorp_vault"

    /// The service's own name, for logs and errors.
    public var displayName: String {
        switch self {
        case .awsSecretManager: "AWS Secrets Manager"
        case .azureKeyVault: "Azure Key Vault"
        case .googleSecretManager: "Google Secret Manager"
        case .hashicorpVault: "HashiCorp Vault"
        }
    }

    /// Values LiteLLM accepts that Switchboard does not implement (a config naming one is refused,
    /// rather than served with the encrypted or unresolved values).
    static let unsupported = ["aws_kms", "google_kms", "cyberark", "custom", "local"]
}

/// Whether the manager is read (`key_management_settings.access_mode`).
public enum SecretAccessMode: String, Sendable {
    case readOnly = "read_only"
    case writeOnly = "write_only"
    case readAndWrite = "read_and_write"
}

/// `general_settings.key_management_system` and `key_management_settings`.
public struct SecretManagerSettings: Sendable, Equatable {
    public var system: KeyManagementSystem
    /// Only these names are read from the manager (`hosted_keys`); `nil`: every name.
    public var hostedKeys: [String]?
    public var accessMode: SecretAccessMode
    /// AWS: one secret holding a JSON object of name → value (`primary_secret_name`).
    public var primarySecretName: String?
    /// AWS: the region (`aws_region_name`), before `AWS_REGION_NAME`/`AWS_REGION`/`AWS_DEFAULT_REGION`.
    public var awsRegionName: String?

    public init(system: KeyManagementSystem, hostedKeys: [String]? = nil, accessMode: SecretAccessMode = .readOnly,
                primarySecretName: String? = nil, awsRegionName: String? = nil) {
        self.system = system
        self.hostedKeys = hostedKeys
        self.accessMode = accessMode
        self.primarySecretName = primarySecretName
        self.awsRegionName = awsRegionName
    }

    /// Whether `os.environ/name` is looked up in the manager (else only in the environment).
    public func readsFromManager(_ name: String) -> Bool {
        guard accessMode != .writeOnly else { return false }
        return hostedKeys.map { $0.contains(name) } ?? true
    }
}

/// Reads the secret manager settings from `general_settings` as written (before `os.environ/`
/// resolution, which needs them).
enum SecretManagerSettingsParser {
    static let knownSettings: Set<String> = [
        "hosted_keys", "access_mode", "store_virtual_keys", "prefix_for_stored_virtual_keys", "primary_secret_name",
        "aws_region_name", "aws_role_name", "aws_session_name", "aws_external_id", "aws_profile_name",
        "aws_web_identity_token", "aws_sts_endpoint", "kms_key_id", "replica_regions", "description", "tags",
        "custom_secret_manager",
    ]
    /// Settings that only matter for writing virtual keys, which Switchboard does not do.
    static let writeSettings: Set<String> = [
        "store_virtual_keys", "prefix_for_stored_virtual_keys", "kms_key_id", "replica_regions", "description", "tags",
    ]
    /// AWS settings that need role assumption, which this gateway does not do for the manager.
    static let roleSettings: Set<String> = [
        "aws_role_name", "aws_session_name", "aws_external_id", "aws_profile_name", "aws_web_identity_token",
        "aws_sts_endpoint",
    ]

    /// `nil` when no manager is configured.
    static func parse(
        _ general: JSONValue, environment: [String: String], warnings: inout [ConfigWarning]
    ) throws(ConfigError) -> SecretManagerSettings? {
        let s = try MappingReader(general, path: "general_settings")
        let resolver = EnvironmentResolver(environment: environment)
        var system: KeyManagementSystem?
        if let raw = s["key_management_system"] {
            let path = s.path("key_management_system")
            let text = try ValueConversion.string(resolver.resolve(raw, at: path), at: path)
            guard let known = KeyManagementSystem(rawValue: text) else {
                let supported = KeyManagementSystem.allCases.map(\.rawValue).joined(separator: ", ")
                if KeyManagementSystem.unsupported.contains(text) {
                    throw ConfigError(path: path, message: "\"\(text)\" is not supported by Switchboard; use one of \(supported)")
                }
                throw ConfigError(path: path, message: "\"\(text)\" is not a key management system; use one of \(supported)")
            }
            system = known
        } else if try s.bool("use_azure_key_vault") == true {
            system = .azureKeyVault
        }
        if try s.bool("use_google_kms") == true {
            throw ConfigError(path: s.path("use_google_kms"), message: "Google KMS is not supported by Switchboard")
        }
        let settings = try s.reader("key_management_settings")
        guard let system else {
            if let settings {
                warnings.append(ConfigWarning(path: settings.path, message: "no key_management_system is set: not used"))
            }
            return nil
        }
        var result = SecretManagerSettings(system: system)
        guard let settings else { return result }
        warnings += settings.unknownKeys(known: knownSettings, message: "unknown key_management_settings key, not used")
        for key in writeSettings where settings.has(key) {
            warnings.append(ConfigWarning(path: settings.path(key), message: "Switchboard never writes to the secret manager: not used"))
        }
        if settings.has("custom_secret_manager") {
            warnings.append(ConfigWarning(path: settings.path("custom_secret_manager"), message: "only used with key_management_system: custom"))
        }
        for key in roleSettings where settings.has(key) {
            throw ConfigError(path: settings.path(key), message: "not supported by Switchboard: give the gateway credentials that can read the secrets (the AWS credential chain)")
        }
        result.hostedKeys = try settings.stringList("hosted_keys")
        if let mode = try settings.string("access_mode") {
            guard let known = SecretAccessMode(rawValue: mode) else {
                throw ConfigError(path: settings.path("access_mode"), message: "\"\(mode)\" is not an access mode; use read_only, write_only or read_and_write")
            }
            result.accessMode = known
        }
        result.primarySecretName = try settings.string("primary_secret_name")
        result.awsRegionName = try settings.string("aws_region_name")
        if system != .awsSecretManager {
            for key in ["primary_secret_name", "aws_region_name"] where settings.has(key) {
                warnings.append(ConfigWarning(path: settings.path(key), message: "only used with aws_secret_manager"))
            }
        }
        return result
    }
}
