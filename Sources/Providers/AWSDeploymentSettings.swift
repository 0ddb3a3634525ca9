import CloudAuth
import OpenAIWire
import SwitchboardConfig

/// What the AWS providers read from the environment, once at start: credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the region
/// (`AWS_REGION_NAME`, `AWS_REGION`, `AWS_DEFAULT_REGION`, in that order) and an endpoint
/// override (the service's `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`; `endpointService` is
/// `<SERVICE>`, e.g. `BEDROCK_RUNTIME`).
struct AWSEnvironment: Sendable {
    var accessKeyID: String?
    var secretAccessKey: String?
    var sessionToken: String?
    var region: String?
    /// The endpoint override and the variable it came from.
    var endpoint: (value: String, variable: String)?
    /// The AWS credential chain, for deployments with no keys when the environment has none.
    var chain: AWSChainCredentials?
    /// The STS endpoint override (`AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`).
    var stsEndpoint: String?
    /// The variables (for a deployment's `aws_profile_name`).
    var variables: [String: String]
    /// The deployments' assumed roles and profiles.
    let identities = AWSDeploymentIdentities()

    init(_ environment: [String: String], endpointService: String, chain: AWSCredentialChain? = nil) {
        func read(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        accessKeyID = read("AWS_ACCESS_KEY_ID")
        secretAccessKey = read("AWS_SECRET_ACCESS_KEY")
        sessionToken = read("AWS_SESSION_TOKEN")
        region = read("AWS_REGION_NAME") ?? read("AWS_REGION") ?? read("AWS_DEFAULT_REGION")
        endpoint = AWSRegion.endpointOverride(service: endpointService, environment: environment)
        stsEndpoint = AWSRegion.endpointOverride(service: "STS", environment: environment)?.value
        variables = environment
        if accessKeyID == nil || secretAccessKey == nil {
            self.chain = AWSChainCredentials(chain: chain ?? AWSCredentialChain.standard(environment: environment))
        }
    }
}

/// One AWS deployment's region and endpoint, from `litellm_params` first and the environment
/// second (its credentials are read for each request: ``identity(_:environment:)``).
struct AWSDeploymentSettings {
    var region: String
    var url: UpstreamURL

    /// LiteLLM's region when none is configured.
    static let defaultRegion = "us-west-2"

    /// - Parameters:
    ///   - endpointKeys: `litellm_params` keys that override the endpoint (`api_base`, ...).
    ///   - defaultHost: the service's host for a region, e.g. `bedrock-runtime.\(region).amazonaws.com`.
    static func resolve(
        _ deployment: Deployment, environment env: AWSEnvironment, endpointKeys: [String], defaultHost: (String) -> String
    ) throws(OpenAIError) -> AWSDeploymentSettings {
        let p = deployment.params
        let region = try region(deployment, environment: env)
        if try env.identities.identity(deployment, environment: env, region: region) == nil,
           try staticCredentials(deployment, environment: env) == nil, let chain = env.chain {
            chain.start()
        }
        var endpoint: (value: String, source: String)?
        for key in endpointKeys {
            let value = key == "api_base" ? p.apiBase : p.all.first(where: { $0.key == key })?.value.stringValue
            if let value, !value.isEmpty {
                endpoint = (value, "litellm_params.\(key)")
                break
            }
        }
        if endpoint == nil, let e = env.endpoint {
            guard HeaderValidation.isValidValue(e.value) else {
                throw Self.unusable(deployment, "environment variable \(e.variable) contains a line break or another control character")
            }
            endpoint = (e.value, e.variable)
        }
        let urlText = endpoint?.value ?? "https://" + defaultHost(region)
        guard let url = UpstreamURL(urlText) else {
            throw OpenAIError.badRequest("Deployment '\(deployment.modelName)' has an endpoint (\(endpoint?.source ?? "default")) that is not an http(s) URL; fix it in the config.")
        }
        return AWSDeploymentSettings(region: region, url: url)
    }

    /// Credentials and region (the signing identity), for each request: the deployment's
    /// assumed role or profile, else its keys, else the environment's, else the AWS credential
    /// chain's current ones.
    static func identity(_ deployment: Deployment, environment env: AWSEnvironment) throws(OpenAIError) -> (AWSCredentials, String) {
        let region = try region(deployment, environment: env)
        if let own = try env.identities.identity(deployment, environment: env, region: region) {
            let credentials = try fetched(
                own.credentials, deployment, source: "the \(own.what) credentials'", missing: "no AWS credentials for \(own.what) yet")
            return (credentials, region)
        }
        if let credentials = try staticCredentials(deployment, environment: env) { return (credentials, region) }
        guard let chain = env.chain else { throw Self.unusable(deployment, "no AWS credentials") }
        chain.start()
        let credentials = try fetched(
            chain, deployment, source: "the AWS credential chain's",
            missing: "no AWS credentials: none in litellm_params or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and the AWS credential chain (web identity, profile, container, instance metadata) has none")
        return (credentials, region)
    }

    /// The current credentials of a background-fetched source, usable in headers; else why not.
    private static func fetched(
        _ source: AWSChainCredentials, _ deployment: Deployment, source name: String, missing: String
    ) throws(OpenAIError) -> AWSCredentials {
        switch source.current() {
        case .success(let credentials):
            for (part, value) in [("access key id", credentials.accessKeyID), ("session token", credentials.sessionToken ?? "")]
            where !HeaderValidation.isValidValue(value) {
                throw Self.unusable(deployment, "\(name) \(part) contains a line break or another control character")
            }
            return credentials
        case .failure(let problem):
            throw Self.unusable(deployment, "\(missing): \(problem.description)")
        }
    }

    /// The keys configured for the deployment or in the environment; `nil` when neither has any.
    static func staticCredentials(_ deployment: Deployment, environment env: AWSEnvironment) throws(OpenAIError) -> AWSCredentials? {
        let p = deployment.params
        if p.awsAccessKeyId != nil || p.awsSecretAccessKey != nil {
            guard let id = p.awsAccessKeyId, !id.isEmpty, let secret = p.awsSecretAccessKey, !secret.isEmpty else {
                throw Self.unusable(deployment, "litellm_params sets only one of aws_access_key_id and aws_secret_access_key; set both")
            }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: p.awsSessionToken)
        }
        guard let id = env.accessKeyID, let secret = env.secretAccessKey else { return nil }
        let credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: p.awsSessionToken ?? env.sessionToken)
        for (name, value) in [("AWS_ACCESS_KEY_ID", id), ("AWS_SESSION_TOKEN", credentials.sessionToken ?? "")]
        where !HeaderValidation.isValidValue(value) {
            throw Self.unusable(deployment, "environment variable \(name) contains a line break or another control character, which cannot be sent upstream")
        }
        return credentials
    }

    /// The deployment's region (`aws_region_name`, else the environment's, else LiteLLM's default).
    static func region(_ deployment: Deployment, environment env: AWSEnvironment) throws(OpenAIError) -> String {
        let region = deployment.params.awsRegionName.flatMap { $0.isEmpty ? nil : $0 } ?? env.region ?? defaultRegion
        guard region.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw Self.unusable(deployment, "the AWS region '\(region)' is not a region name (lower-case letters, digits and '-')")
        }
        return region
    }

    static func unusable(_ deployment: Deployment, _ why: String) -> OpenAIError {
        .internalError("Deployment '\(deployment.modelName)' (\(deployment.params.model)) cannot be called: \(why).")
    }

    /// The `Host` and signature headers for a POST of `body` to `uri` on `target`, signed now.
    static func signedHeaders(
        _ base: HTTPHeadersList, uri: String, target: UpstreamTarget, body: ByteBuffer, signer: AWSSigV4,
        time: AWSSigV4.Timestamp = .now()
    ) -> HTTPHeadersList {
        var path = Substring(uri)
        var query: Substring = ""
        if let q = uri.firstIndex(of: "?") {
            path = uri[..<q]
            query = uri[uri.index(after: q)...]
        }
        let toSign = base.filter { ["host", "content-type"].contains($0.name.lowercased()) }
        let added = body.withUnsafeReadableBytes {
            signer.sign(method: "POST", path: String(path), query: String(query), headers: toSign, payload: $0, time: time)
        }
        return base + added
    }
}

/// Header name/value pairs in order.
typealias HTTPHeadersList = [(name: String, value: String)]

import NIOCore
