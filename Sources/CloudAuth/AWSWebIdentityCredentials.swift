import Foundation
import NIOCore

/// EKS's IAM roles for service accounts: `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`
/// (`AWS_ROLE_SESSION_NAME` optional) exchanged with STS `AssumeRoleWithWebIdentity`, an
/// unsigned query-API call, at `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, else the regional
/// endpoint `https://sts.<region>.amazonaws.com` (the global one without a region).
public struct AWSWebIdentityCredentials: AWSCredentialSource {
    let environment: [String: String]
    let fetcher: HTTPFetcher

    public init(environment: [String: String], fetcher: HTTPFetcher = HTTPFetcher()) {
        self.environment = environment
        self.fetcher = fetcher
    }

    public var name: String { "web identity" }

    /// The STS endpoint used.
    public var endpoint: String {
        if let override = AWSRegion.endpointOverride(service: "STS", environment: environment) { return override.value }
        if let region = AWSRegion.resolve(environment: environment) { return "https://sts.\(region).amazonaws.com" }
        return "https://sts.amazonaws.com"
    }

    public func resolve() async throws(CloudAuthError) -> AWSCredentials? {
        guard let tokenFile = environment.nonEmpty("AWS_WEB_IDENTITY_TOKEN_FILE") else { return nil }
        guard let role = environment.nonEmpty("AWS_ROLE_ARN") else {
            throw CloudAuthError("web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        guard let token = try AWSSharedFiles.read(tokenFile)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw CloudAuthError("web identity: the token file \(tokenFile) (AWS_WEB_IDENTITY_TOKEN_FILE) does not exist or is empty")
        }
        let session = environment.nonEmpty("AWS_ROLE_SESSION_NAME") ?? "switchboard-\(Int(time(nil)))"
        let form = URLEncoding.form([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role),
            ("RoleSessionName", session), ("WebIdentityToken", token),
        ])
        let url = endpoint.hasSuffix("/") ? endpoint : endpoint + "/"
        let answer: HTTPFetchResponse
        do {
            answer = try await fetcher.post(url, headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "application/xml")],
                                            body: ByteBuffer(string: form))
        } catch {
            throw CloudAuthError("web identity: STS AssumeRoleWithWebIdentity failed: \(error)")
        }
        guard answer.isSuccess else {
            throw CloudAuthError("web identity: STS AssumeRoleWithWebIdentity answered \(answer.status)\(AWSErrorText.summary(answer.text))")
        }
        return try AWSCredentialDocuments.stsXML(answer.text, source: "web identity (STS)")
    }
}

/// `: Code: Message` from an AWS XML or JSON error body (empty when there is none).
public enum AWSErrorText {
    public static func summary(_ body: String) -> String {
        let code = XMLText.element("Code", in: body)
        let message = XMLText.element("Message", in: body)
        let parts = [code, message].compactMap { $0 }
        if !parts.isEmpty { return " " + parts.joined(separator: ": ") }
        return ""
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
