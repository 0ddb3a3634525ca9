import CloudAuth
import NIOCore
import OpenAIWire
import Synchronization
import SwitchboardConfig

/// AWS Secrets Manager (`key_management_system: aws_secret_manager`): `GetSecretValue`, a JSON 1.1
/// `POST /` to `secretsmanager.{region}.amazonaws.com` with `X-Amz-Target:
/// secretsmanager.GetSecretValue` and body `{"SecretId": name}`, signed with SigV4 from the
/// standard AWS credential chain; the value is `SecretString`. With
/// `key_management_settings.primary_secret_name`, that one secret holds a JSON object of name →
/// value and is read once per load (as LiteLLM does).
///
/// Region: `key_management_settings.aws_region_name`, else `AWS_REGION_NAME`, `AWS_REGION`,
/// `AWS_DEFAULT_REGION`. Endpoint: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`
/// (the SDKs' variables; S3-style local stacks and the tests), else AWS's.
public struct AWSSecretsManagerClient: SecretManagerClient {
    public let system = KeyManagementSystem.awsSecretManager
    /// LiteLLM reads these from the environment even with a manager (they configure it).
    public let configurationVariables: Set<String> = [
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION_NAME", "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_BEDROCK_RUNTIME_ENDPOINT", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    ]
    static let target = "secretsmanager.GetSecretValue"

    let region: String
    let endpoint: String
    let primarySecretName: String?
    let credentials: AWSCredentialChain
    let fetcher: HTTPFetcher
    /// The primary secret's members, read once per resolution.
    private let primary = Once<[String: String]?>()

    public var location: String { "\(endpoint) (\(region))" }

    public init(settings: SecretManagerSettings, environment: [String: String], fetcher: HTTPFetcher,
                credentials: AWSCredentialChain? = nil) throws(SecretManagerFailure) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let region = settings.awsRegionName ?? value("AWS_REGION_NAME") ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") else {
            throw SecretManagerFailure("no AWS region: set key_management_settings.aws_region_name, AWS_REGION_NAME, AWS_REGION or AWS_DEFAULT_REGION")
        }
        self.region = region
        endpoint = trimmedBase(value("AWS_ENDPOINT_URL_SECRETS_MANAGER") ?? value("AWS_ENDPOINT_URL")
            ?? "https://secretsmanager.\(region).\(region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com")")
        primarySecretName = settings.primarySecretName
        self.credentials = credentials ?? AWSCredentialChain.standard(environment: environment, fetcher: fetcher)
        self.fetcher = fetcher
    }

    public func read(_ name: String) async throws(SecretManagerFailure) -> String? {
        guard let primarySecretName else { return try await getSecretValue(name) }
        let values = try await primary.value { [self] () async throws -> [String: String]? in
            guard let text = try await getSecretValue(primarySecretName) else { return nil }
            guard let members = (try? JSONValue.parse(text))?.objectValue else {
                throw SecretManagerFailure("the primary secret \(primarySecretName) is not a JSON object")
            }
            var values: [String: String] = [:]
            for member in members { if let text = member.value.stringValue { values[member.key] = text } }
            return values
        }
        guard let values else { throw SecretManagerFailure("the primary secret \(primarySecretName) does not exist") }
        return values[name]
    }

    /// `GetSecretValue` of `secretID`: its `SecretString`, `nil` when there is no such secret.
    func getSecretValue(_ secretID: String) async throws(SecretManagerFailure) -> String? {
        let signer: AWSSigV4
        do {
            signer = AWSSigV4(credentials: try await credentials.credentials(), region: region, service: "secretsmanager")
        } catch {
            throw SecretManagerFailure("AWS credentials: \(error)")
        }
        guard let url = HTTPURL(endpoint + "/") else { throw SecretManagerFailure("the endpoint \(endpoint) is not an http(s) URL") }
        let body = Array(JSONValue.object([JSONMember("SecretId", .string(secretID))]).jsonText.utf8)
        var headers: [(name: String, value: String)] = [
            ("host", url.hostHeader), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", Self.target),
        ]
        headers += body.withUnsafeBytes {
            signer.sign(method: "POST", path: url.path, query: url.query, headers: headers, payload: $0, time: .now())
        }
        let response = try await fetcher.exchange(
            HTTPFetchRequest(method: "POST", url: endpoint + "/", headers: headers, body: ByteBuffer(bytes: body)),
            purpose: "GetSecretValue (POST \(endpoint)/)")
        let json = response.json
        guard response.status == 200 else {
            let type = (json?["__type"]?.stringValue ?? response.header("x-amzn-errortype") ?? "")
                .split(separator: "#").last.map(String.init) ?? ""
            if type.hasPrefix("ResourceNotFoundException") { return nil }
            let message = json?["message"]?.stringValue ?? json?["Message"]?.stringValue
            throw .status(response, message: [type.split(separator: ":").first.map(String.init), message]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": "))
        }
        guard let text = json?["SecretString"]?.stringValue else {
            throw SecretManagerFailure("the secret has no SecretString (a binary secret cannot be a config value)")
        }
        return text
    }
}
