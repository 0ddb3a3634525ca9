import Foundation
import NIOCore
/// An EC2 instance profile through IMDSv2: `PUT /latest/api/token` for a session token, then
/// `GET /latest/meta-data/iam/security-credentials/` (the role name) and
/// `GET …/security-credentials/<role>`, each with `X-aws-ec2-metadata-token`. The endpoint is
/// `http://169.254.169.254` unless `AWS_EC2_METADATA_SERVICE_ENDPOINT` says otherwise;
/// `AWS_EC2_METADATA_DISABLED=true` turns it off. Short deadlines: off EC2 nothing answers.
public struct AWSInstanceMetadataCredentials: AWSCredentialSource {
    let environment: [String: String]
    let fetcher: HTTPFetcher

    public init(environment: [String: String], fetcher: HTTPFetcher = HTTPFetcher(timeout: .seconds(2))) {
        self.environment = environment
        self.fetcher = fetcher
    }

    public var name: String { "EC2 instance metadata" }

    public var endpoint: String {
        var base = environment.nonEmpty("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    public func resolve() async throws(CloudAuthError) -> AWSCredentials? {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        let base = endpoint
        do {
            let tokenAnswer = try await fetcher.put(base + "/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
            guard tokenAnswer.isSuccess, !tokenAnswer.text.isEmpty else {
                throw CloudAuthError("EC2 instance metadata: the token request answered \(tokenAnswer.status)")
            }
            let token = [(name: "X-aws-ec2-metadata-token", value: tokenAnswer.text.trimmingCharacters(in: .whitespacesAndNewlines))]
            let listing = try await fetcher.get(base + "/latest/meta-data/iam/security-credentials/", headers: token)
            guard listing.isSuccess else {
                throw CloudAuthError("EC2 instance metadata: no instance profile (security-credentials answered \(listing.status))")
            }
            guard let role = listing.text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }), !role.isEmpty else {
                throw CloudAuthError("EC2 instance metadata: no instance profile role")
            }
            let answer = try await fetcher.get(base + "/latest/meta-data/iam/security-credentials/" + URLEncoding.encode(role), headers: token)
            guard answer.isSuccess else {
                throw CloudAuthError("EC2 instance metadata: the credentials of role \(role) answered \(answer.status)")
            }
            return try AWSCredentialDocuments.json(answer.text, source: "EC2 instance metadata")
        } catch let error as CloudAuthError {
            throw error
        } catch {
            throw CloudAuthError("EC2 instance metadata: \(error)")
        }
    }
}
