import Foundation
import NIOCore
/// ECS task roles and EKS Pod Identity: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
/// `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN` sent as
/// `Authorization`. A full URI over plain http must name a loopback or the ECS/EKS agent address,
/// as the AWS SDKs require.
public struct AWSContainerCredentials: AWSCredentialSource {
    let environment: [String: String]
    let fetcher: HTTPFetcher

    /// The ECS agent's address for relative URIs.
    public static let ecsHost = "http://169.254.170.2"

    public init(environment: [String: String], fetcher: HTTPFetcher = HTTPFetcher(timeout: .seconds(5))) {
        self.environment = environment
        self.fetcher = fetcher
    }

    public var name: String { "container credentials" }

    /// The endpoint to ask: the relative URI on the ECS agent, or the full URI; nil when neither is set.
    public func endpoint() throws(CloudAuthError) -> String? {
        if let relative = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            return Self.ecsHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment.nonEmpty("AWS_CONTAINER_CREDENTIALS_FULL_URI") else { return nil }
        guard let parsed = HTTPURL(full) else {
            throw CloudAuthError("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
        }
        guard parsed.tls || Self.allowedPlainHosts.contains(parsed.host) || parsed.host.hasPrefix("127.") else {
            throw CloudAuthError("container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI over http must name a loopback address or the ECS/EKS agent (got \(parsed.host))")
        }
        return full
    }

    public func resolve() async throws(CloudAuthError) -> AWSCredentials? {
        guard let url = try endpoint() else { return nil }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let file = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let token = try AWSSharedFiles.read(file)?.trimmingCharacters(in: .whitespacesAndNewlines) else {
                throw CloudAuthError("container credentials: the token file \(file) (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) does not exist")
            }
            headers.append(("Authorization", token))
        } else if let token = environment.nonEmpty("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            headers.append(("Authorization", token))
        }
        guard headers.allSatisfy({ !$0.value.contains(where: { $0.asciiValue.map { $0 < 0x20 } ?? false }) }) else {
            throw CloudAuthError("container credentials: the authorization token contains a control character")
        }
        let answer: HTTPFetchResponse
        do {
            answer = try await fetcher.get(url, headers: headers)
        } catch {
            throw CloudAuthError("container credentials: \(error)")
        }
        guard answer.isSuccess else {
            throw CloudAuthError("container credentials: the endpoint answered \(answer.status)")
        }
        return try AWSCredentialDocuments.json(answer.text, source: "container credentials")
    }

    static let allowedPlainHosts: Set<String> = ["localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
}
