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

    init(_ environment: [String: String], endpointService: String) {
        func read(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        accessKeyID = read("AWS_ACCESS_KEY_ID")
        secretAccessKey = read("AWS_SECRET_ACCESS_KEY")
        sessionToken = read("AWS_SESSION_TOKEN")
        region = read("AWS_REGION_NAME") ?? read("AWS_REGION") ?? read("AWS_DEFAULT_REGION")
        endpoint = AWSRegion.endpointOverride(service: endpointService, environment: environment)
    }
}

/// One AWS deployment's signing identity and endpoint, from `litellm_params` first and the
/// environment second.
struct AWSDeploymentSettings {
    var credentials: AWSCredentials
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
        let (credentials, region) = try identity(deployment, environment: env)
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
        return AWSDeploymentSettings(credentials: credentials, region: region, url: url)
    }

    /// Credentials and region (the signing identity): for the plan, and again for each request.
    static func identity(_ deployment: Deployment, environment env: AWSEnvironment) throws(OpenAIError) -> (AWSCredentials, String) {
        let p = deployment.params
        let credentials: AWSCredentials
        if p.awsAccessKeyId != nil || p.awsSecretAccessKey != nil {
            guard let id = p.awsAccessKeyId, !id.isEmpty, let secret = p.awsSecretAccessKey, !secret.isEmpty else {
                throw Self.unusable(deployment, "litellm_params sets only one of aws_access_key_id and aws_secret_access_key; set both")
            }
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: p.awsSessionToken)
        } else if let id = env.accessKeyID, let secret = env.secretAccessKey {
            credentials = AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: p.awsSessionToken ?? env.sessionToken)
            for (name, value) in [("AWS_ACCESS_KEY_ID", id), ("AWS_SESSION_TOKEN", credentials.sessionToken ?? "")]
            where !HeaderValidation.isValidValue(value) {
                throw Self.unusable(deployment, "environment variable \(name) contains a line break or another control character, which cannot be sent upstream")
            }
        } else {
            throw Self.unusable(deployment, "no AWS credentials: set litellm_params.aws_access_key_id and aws_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in Switchboard's environment (IAM roles, profiles and web identity are not supported)")
        }
        let region = p.awsRegionName.flatMap { $0.isEmpty ? nil : $0 } ?? env.region ?? defaultRegion
        guard region.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw Self.unusable(deployment, "the AWS region '\(region)' is not a region name (lower-case letters, digits and '-')")
        }
        return (credentials, region)
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
