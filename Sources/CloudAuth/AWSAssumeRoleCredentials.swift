import Foundation
import NIOCore

/// A role assumed through STS, as LiteLLM's Bedrock and SageMaker deployments name one
/// (`aws_role_name`, `aws_session_name`, `aws_external_id`, `aws_web_identity_token`,
/// `aws_sts_endpoint`): `AssumeRole`, a query-API call signed with Signature V4 (service
/// `sts`) by the base credentials; or, given a web identity token, `AssumeRoleWithWebIdentity`
/// (unsigned). The temporary credentials it answers last an hour (`DurationSeconds=3600`).
///
/// ```swift
/// let role = AWSAssumeRoleCredentials(
///     roleARN: "arn:aws:iam::123456789012:role/bedrock", sessionName: "switchboard",
///     endpoint: "https://sts.eu-west-1.amazonaws.com", region: "eu-west-1") { baseCredentials }
/// let chain = AWSCredentialChain(sources: [role])
/// ```
public struct AWSAssumeRoleCredentials: AWSCredentialSource {
    public let roleARN: String
    public let sessionName: String
    public let externalID: String?
    public let webIdentityToken: String?
    /// The STS endpoint (`https://sts.<region>.amazonaws.com`, or an override).
    public let endpoint: String
    /// The region the call is signed for.
    public let region: String
    let fetcher: HTTPFetcher
    /// The credentials `AssumeRole` is signed with (not read for a web identity).
    let base: @Sendable () async throws -> AWSCredentials

    public init(
        roleARN: String, sessionName: String, externalID: String? = nil, webIdentityToken: String? = nil, endpoint: String,
        region: String, fetcher: HTTPFetcher = HTTPFetcher(), base: @escaping @Sendable () async throws -> AWSCredentials
    ) {
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.externalID = externalID
        self.webIdentityToken = webIdentityToken
        self.endpoint = endpoint
        self.region = region
        self.fetcher = fetcher
        self.base = base
    }

    public var name: String { "assume role" }

    public func resolve() async throws(CloudAuthError) -> AWSCredentials? {
        let action = webIdentityToken == nil ? "AssumeRole" : "AssumeRoleWithWebIdentity"
        var fields = [
            ("Action", action), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName), ("DurationSeconds", "3600"),
        ]
        if let webIdentityToken {
            fields.append(("WebIdentityToken", webIdentityToken))
        } else if let externalID {
            fields.append(("ExternalId", externalID))
        }
        let form = URLEncoding.form(fields)
        let url = endpoint.hasSuffix("/") ? endpoint : endpoint + "/"
        guard let target = HTTPURL(url) else {
            throw CloudAuthError("assume role \(roleARN): the STS endpoint \(endpoint) is not an http(s) URL")
        }
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        var headers: [(name: String, value: String)] = [("Content-Type", contentType), ("Accept", "application/xml")]
        if webIdentityToken == nil {
            let credentials: AWSCredentials
            do {
                credentials = try await base()
            } catch {
                throw CloudAuthError("assume role \(roleARN): no credentials to sign STS AssumeRole with: \(error)")
            }
            let signer = AWSSigV4(credentials: credentials, region: region, service: "sts")
            let toSign: [(name: String, value: String)] = [("Host", target.hostHeader), ("Content-Type", contentType)]
            let added = Array(form.utf8).withUnsafeBytes {
                signer.sign(method: "POST", path: target.path, query: target.query, headers: toSign, payload: $0, time: .now())
            }
            headers = toSign + [("Accept", "application/xml")] + added
        }
        let answer: HTTPFetchResponse
        do {
            answer = try await fetcher.post(url, headers: headers, body: ByteBuffer(string: form))
        } catch {
            throw CloudAuthError("assume role \(roleARN): STS \(action) failed: \(error)")
        }
        guard answer.isSuccess else {
            throw CloudAuthError("assume role \(roleARN): STS \(action) answered \(answer.status)\(AWSErrorText.summary(answer.text))")
        }
        return try AWSCredentialDocuments.stsXML(answer.text, source: "assume role \(roleARN) (STS)")
    }
}
