import OpenAIWire

/// A whole gateway configuration, as read from a LiteLLM-style `config.yaml`, fully resolved:
/// `os.environ/` references replaced, credentials merged, organization lists expanded,
/// deployments filtered by `LITELLM_ENVIRONMENT`.
public struct GatewayConfig: Sendable {
    /// Every deployment, in file order (after organization expansion and environment filtering).
    public var deployments: [Deployment]
    public var litellmSettings: LitellmSettings
    public var routerSettings: RouterSettings
    public var generalSettings: GeneralSettings
    /// `environment_variables`, as given (values stringified and resolved). They were merged into
    /// the environment `os.environ/` reads, and exported into the process when the loader's
    /// `exportsEnvironmentVariables` is set.
    public var environmentVariables: [String: String]
    /// `credential_list`, resolved.
    public var credentials: [Credential]
    /// Non-fatal findings (unknown keys, suspicious values), each naming its key path.
    public var warnings: [ConfigWarning]
    /// `os.environ/NAME` references whose variable is not set, in file order (always empty when
    /// loaded with `strictEnvironment`, which refuses them). Each is also a warning.
    public var missingVariables: [MissingVariable] = []
    /// `general_settings.key_management_system` and `key_management_settings`, when set.
    public var secretManager: SecretManagerSettings?

    public init(
        deployments: [Deployment] = [], litellmSettings: LitellmSettings = .init(),
        routerSettings: RouterSettings = .init(), generalSettings: GeneralSettings = .init(),
        environmentVariables: [String: String] = [:], credentials: [Credential] = [],
        warnings: [ConfigWarning] = []
    ) {
        self.deployments = deployments
        self.litellmSettings = litellmSettings
        self.routerSettings = routerSettings
        self.generalSettings = generalSettings
        self.environmentVariables = environmentVariables
        self.credentials = credentials
        self.warnings = warnings
    }

    /// The distinct `model_name`s, in first-seen order.
    public var modelNames: [String] {
        var seen = Set<String>()
        return deployments.compactMap { seen.insert($0.modelName).inserted ? $0.modelName : nil }
    }
}

/// One entry of `model_list` (one per organization when `organization` was a list).
public struct Deployment: Sendable, Equatable {
    /// The name clients send (`model_name`); entries sharing it form a model group. May be a
    /// wildcard pattern such as `*` or `openai/*`.
    public var modelName: String
    public var params: LitellmParams
    public var modelInfo: ModelInfo
    /// Unset variables this deployment's `litellm_params` name (its own or taken from its
    /// credential): the values read as absent, and the gateway refuses calls to it.
    public var missingVariables: [MissingVariable]

    public init(modelName: String, params: LitellmParams, modelInfo: ModelInfo, missingVariables: [MissingVariable] = []) {
        self.modelName = modelName
        self.params = params
        self.modelInfo = modelInfo
        self.missingVariables = missingVariables
    }

    /// The deployment's stable id (`model_info.id`, generated when absent).
    public var id: String { modelInfo.id }
}

/// `litellm_params` of a deployment, resolved.
public struct LitellmParams: Sendable, Equatable {
    /// `model`, e.g. `openai/gpt-4o`, `azure/gpt-4o-eu`, `gpt-4o`, `*`, `openai/*`.
    public var model: String
    public var apiBase: String?
    public var apiKey: String?
    public var apiVersion: String?
    public var azureAdToken: String?
    /// One organization (a list in the file was expanded into one deployment each).
    public var organization: String?
    public var awsRegionName: String?
    public var awsAccessKeyId: String?
    public var awsSecretAccessKey: String?
    public var awsSessionToken: String?
    /// `extra_headers`, in file order.
    public var extraHeaders: [(name: String, value: String)]
    public var rpm: Int?
    public var tpm: Int?
    public var weight: Double?
    /// Seconds.
    public var timeout: Double?
    /// Seconds.
    public var streamTimeout: Double?
    public var maxRetries: Int?
    /// `mock_response`: answer with this instead of calling the provider.
    public var mockResponse: JSONValue?
    /// Custom prompt template keys, when any is set.
    public var promptTemplate: PromptTemplate?
    /// The name of the `credential_list` entry this deployment took values from.
    public var credentialName: String?
    /// OpenAI request parameters set on the deployment (`temperature`, `max_tokens`, `seed`, ...):
    /// defaults that the request overrides. Every `litellm_params` key that is not a gateway or
    /// provider setting lands here, in file order.
    public var requestDefaults: [JSONMember]
    /// Every `litellm_params` key after resolution and credential merging, in file order.
    /// Holds secrets: redact before showing it.
    public var all: [JSONMember]

    public init(model: String) {
        self.model = model
        self.extraHeaders = []
        self.requestDefaults = []
        self.all = [JSONMember("model", .string(model))]
    }

    public static func == (a: LitellmParams, b: LitellmParams) -> Bool { a.all == b.all }
}

/// `initial_prompt_value`, `roles`, `final_prompt_value`, `bos_token`, `eos_token`.
public struct PromptTemplate: Sendable, Equatable {
    public struct Role: Sendable, Equatable {
        public var preMessage: String
        public var postMessage: String
        public init(preMessage: String = "", postMessage: String = "") {
            self.preMessage = preMessage
            self.postMessage = postMessage
        }
    }
    public var initialPromptValue: String
    public var roles: [String: Role]
    public var finalPromptValue: String
    public var bosToken: String
    public var eosToken: String

    public init(
        initialPromptValue: String = "", roles: [String: Role] = [:], finalPromptValue: String = "",
        bosToken: String = "", eosToken: String = ""
    ) {
        self.initialPromptValue = initialPromptValue
        self.roles = roles
        self.finalPromptValue = finalPromptValue
        self.bosToken = bosToken
        self.eosToken = eosToken
    }
}

/// `model_info` of a deployment.
public struct ModelInfo: Sendable, Equatable {
    /// `id` as given, else a stable id derived from the deployment (same config → same id; see
    /// `ConfigLoader`). A given `id` on an entry with an organization list becomes `<id>-<organization>`
    /// so that the expanded deployments stay distinct.
    public var id: String
    public var mode: String?
    public var baseModel: String?
    public var supportedEnvironments: [String]?
    public var accessGroups: [String]
    public var maxInputTokens: Int?
    public var maxOutputTokens: Int?
    public var inputCostPerToken: Double?
    public var outputCostPerToken: Double?
    /// `custom_tokenizer`: the Hugging Face tokenizer `/utils/token_counter` and the router's tpm
    /// reservation count this deployment's tokens with.
    public var customTokenizer: CustomTokenizer?
    /// Every key of `model_info` (free keys included), resolved, with `id` set. Shown by
    /// `/model/info` after redaction.
    public var all: [JSONMember]

    public init(id: String) {
        self.id = id
        self.accessGroups = []
        self.all = [JSONMember("id", .string(id))]
    }
}

/// `model_info.custom_tokenizer`: a `tokenizer.json` on the Hugging Face hub (`identifier` a repo
/// id such as `meta-llama/Meta-Llama-3-8B`, at `revision`, fetched with `auth_token` as a Bearer
/// token when given), or a local file or directory (`identifier` starting with `/`, `./`, `../` or
/// `file://`).
public struct CustomTokenizer: Sendable, Equatable {
    public var identifier: String
    public var revision: String
    /// A secret: never shown or logged.
    public var authToken: String?

    public init(identifier: String, revision: String = "main", authToken: String? = nil) {
        self.identifier = identifier
        self.revision = revision
        self.authToken = authToken
    }

    /// The file path when `identifier` names a local file or directory, else `nil` (a hub repo).
    public var localPath: String? {
        if identifier.hasPrefix("file://") { return String(identifier.dropFirst("file://".count)) }
        if identifier.hasPrefix("/") || identifier.hasPrefix("./") || identifier.hasPrefix("../") { return identifier }
        return nil
    }
}

/// One entry of `credential_list`.
public struct Credential: Sendable, Equatable {
    public var name: String
    public var values: [JSONMember]
    public var info: [JSONMember]

    public init(name: String, values: [JSONMember], info: [JSONMember]) {
        self.name = name
        self.values = values
        self.info = info
    }
}

/// `fallbacks: [{"group": ["other", ...]}]`, flattened.
public struct FallbackRule: Sendable, Equatable {
    public var modelGroup: String
    public var fallbacks: [String]
    public init(modelGroup: String, fallbacks: [String]) {
        self.modelGroup = modelGroup
        self.fallbacks = fallbacks
    }
}

/// `litellm_settings`.
public struct LitellmSettings: Sendable, Equatable {
    public var dropParams: Bool = false
    public var numRetries: Int?
    /// Seconds.
    public var requestTimeout: Double?
    public var fallbacks: [FallbackRule] = []
    public var contextWindowFallbacks: [FallbackRule] = []
    public var contentPolicyFallbacks: [FallbackRule] = []
    public var defaultFallbacks: [String] = []
    public var allowedFails: Int?
    /// Seconds.
    public var cooldownTime: Double?
    public var successCallback: [String] = []
    public var failureCallback: [String] = []
    public var callbacks: [String] = []
    public var setVerbose: Bool = false
    /// Every key as given, resolved.
    public var all: [JSONMember] = []
    public init() {}
}

/// A `model_group_alias` target.
public struct ModelGroupAlias: Sendable, Equatable {
    public var model: String
    /// Hidden aliases route but are not listed by `/v1/models`.
    public var hidden: Bool
    public init(model: String, hidden: Bool = false) {
        self.model = model
        self.hidden = hidden
    }
}

/// `router_settings`.
public struct RouterSettings: Sendable, Equatable {
    public var routingStrategy: String = "simple-shuffle"
    public var routingStrategyArgs: [JSONMember] = []
    /// Alias → target, in file order.
    public var modelGroupAlias: [(alias: String, target: ModelGroupAlias)] = []
    public var numRetries: Int?
    /// Seconds.
    public var timeout: Double?
    /// Seconds.
    public var streamTimeout: Double?
    public var retryAfter: Double?
    public var allowedFails: Int?
    public var cooldownTime: Double?
    public var enablePreCallChecks: Bool = false
    public var optionalPreCallChecks: [String] = []
    public var fallbacks: [FallbackRule] = []
    public var contextWindowFallbacks: [FallbackRule] = []
    public var contentPolicyFallbacks: [FallbackRule] = []
    public var defaultFallbacks: [String] = []
    /// `allowed_fails_policy`: failures allowed per error kind before a cooldown
    /// (`RateLimitErrorAllowedFails`, `TimeoutErrorAllowedFails`, ...).
    public var allowedFailsPolicy: [String: Int] = [:]
    /// `disable_cooldowns`.
    public var disableCooldowns: Bool = false
    /// Whether deployment rpm/tpm are enforced (default) or only weigh the picks
    /// (`enforce_model_rate_limits: false`).
    public var enforceModelRateLimits: Bool = true
    public var redisHost: String?
    public var redisPort: Int?
    public var redisPassword: String?
    public var redisURL: String?
    /// ACL user for `AUTH` (`redis_username`).
    public var redisUsername: String?
    /// `redis_db`: the database index.
    public var redisDB: Int = 0
    /// `redis_ssl`: TLS to `redis_host` (a `rediss://` URL implies it).
    public var redisSSL: Bool = false
    /// `redis_timeout_ms`: the deadline of each Redis call.
    public var redisTimeoutMilliseconds: Double = 5
    /// `redis_fail_closed`: refuse calls (429) while Redis is down instead of per-worker limits.
    public var redisFailClosed: Bool = false
    /// Whether a Redis server is configured (host or URL).
    public var usesRedis: Bool { redisHost != nil || redisURL != nil }
    /// Every key as given, resolved.
    public var all: [JSONMember] = []
    public init() {}

    public static func == (a: RouterSettings, b: RouterSettings) -> Bool { a.all == b.all }
}

/// `general_settings`.
public struct GeneralSettings: Sendable, Equatable {
    public var masterKey: String?
    public var databaseURL: String?
    public var databaseConnectionPoolLimit: Int = 10
    /// Seconds.
    public var databaseConnectionTimeout: Double = 60
    public var alerting: [String] = []
    public var alertingThreshold: Double?
    /// `alert_types`: the alert kinds sent (`nil`: all).
    public var alertTypes: [String]?
    public var alertingArgs = AlertingArgs()
    public var disableSpendLogs: Bool = false
    public var storeModelInDB: Bool = false
    /// Largest request body accepted, in bytes (`max_request_body_bytes`; default 64 MiB).
    public var maxRequestBodyBytes: Int = 64 << 20
    /// Every key as given, resolved.
    public var all: [JSONMember] = []
    public init() {}
}

/// `general_settings.alerting_args`: LiteLLM's outage settings, and Switchboard's deduplication window.
public struct AlertingArgs: Sendable, Equatable {
    /// Seconds in which `minorOutageAlertThreshold` failures of one deployment raise `outage_alerts` (LiteLLM default 60).
    public var outageAlertTTL: Double?
    /// Failures that raise `outage_alerts` (LiteLLM default 5).
    public var minorOutageAlertThreshold: Int?
    /// Switchboard's own: one incident alerts at most once in this many seconds (default 300).
    public var alertDedupSeconds: Double?
    public init() {}
}

/// An `os.environ/NAME` reference whose variable was not set when the config was loaded.
public struct MissingVariable: Sendable, Equatable, CustomStringConvertible {
    /// The variable, e.g. `OPENAI_API_KEY`.
    public var name: String
    /// Where it is referenced, e.g. `model_list[0].litellm_params.api_key`.
    public var path: String
    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
    public var description: String { "\(name) (\(path))" }
}

/// A non-fatal finding about the configuration.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    /// Where, e.g. `model_list[0].litellm_params.colour`.
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Why a configuration cannot be loaded. `description` names the key path and the problem,
/// e.g. `model_list[2].litellm_params.rpm: expected integer, got "fast"`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key path, empty for problems with the whole file.
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
