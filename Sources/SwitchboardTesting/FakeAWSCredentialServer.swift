import NIOCore
import Synchronization

/// The three AWS endpoints that hand out temporary credentials, on one loopback port, each
/// speaking its real protocol:
/// - STS `AssumeRoleWithWebIdentity` (`POST /`, form body; XML answer) for ``webIdentityToken``
///   and ``roleARN``;
/// - the ECS/EKS container endpoint (`GET` ``containerPath``; requires ``containerAuthorization``
///   in `Authorization` when set; JSON);
/// - EC2 IMDSv2 (`PUT /latest/api/token` with a TTL header, then `GET
///   /latest/meta-data/iam/security-credentials/[role]` with `X-aws-ec2-metadata-token`; JSON).
/// Each hands out ``issued``.
public final class FakeAWSCredentialServer: Sendable {
    public let issued: FakeIssuedCredentials
    public let webIdentityToken: String
    public let roleARN: String
    public let containerPath = "/v2/credentials/fake-task"
    public let containerAuthorization: String?
    public let instanceRole = "fake-instance-role"
    private let imdsToken = "fake-imds-session-token"
    private let server: Mutex<FakeOpenAIServer?> = Mutex(nil)

    public init(issued: FakeIssuedCredentials = FakeIssuedCredentials(), webIdentityToken: String = "eyJ.fake-oidc.token",
                roleARN: String = "arn:aws:iam::123456789012:role/switchboard", containerAuthorization: String? = nil) async throws {
        self.issued = issued
        self.webIdentityToken = webIdentityToken
        self.roleARN = roleARN
        self.containerAuthorization = containerAuthorization
        let box = Mutex<FakeAWSCredentialServer?>(nil)
        let http = try await FakeOpenAIServer { request in box.withLock { $0 }?.answer(request) ?? .close }
        server.withLock { $0 = http }
        box.withLock { $0 = self }
    }

    public var endpointURL: String { "http://127.0.0.1:\(server.withLock { $0!.port })" }
    public var requests: [RecordedRequest] { server.withLock { $0!.requests } }

    public func shutdown() async { await server.withLock { $0 }?.shutdown() }

    func answer(_ request: RecordedRequest) -> FakeResponse {
        let path = request.path
        switch (request.method, path) {
        case ("POST", "/"):
            return sts(request)
        case ("GET", containerPath):
            if let containerAuthorization, request.header("authorization") != containerAuthorization {
                return .json(status: 401, body: #"{"message":"invalid authorization token"}"#)
            }
            return .json(status: 200, body: issued.json(code: false))
        case ("PUT", "/latest/api/token"):
            guard let ttl = request.header("x-aws-ec2-metadata-token-ttl-seconds"), Int(ttl) != nil else {
                return .body(status: 400, contentType: "text/plain", body: "")
            }
            return .body(status: 200, contentType: "text/plain", body: imdsToken, headers: [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
        case ("GET", "/latest/meta-data/iam/security-credentials/"), ("GET", "/latest/meta-data/iam/security-credentials/" + instanceRole):
            guard request.header("x-aws-ec2-metadata-token") == imdsToken else { return .body(status: 401, contentType: "text/plain", body: "") }
            if path.hasSuffix("/") { return .body(status: 200, contentType: "text/plain", body: instanceRole) }
            return .body(status: 200, contentType: "text/plain", body: issued.json(code: true))
        default:
            return .body(status: 404, contentType: "text/plain", body: "not found")
        }
    }

    func sts(_ request: RecordedRequest) -> FakeResponse {
        let form = request.formFields
        guard form["Action"] == "AssumeRoleWithWebIdentity", form["Version"] == "2011-06-15" else {
            return Self.stsError(400, "InvalidAction", "Could not find operation \(form["Action"] ?? "") for version \(form["Version"] ?? "")")
        }
        guard form["WebIdentityToken"] == webIdentityToken else {
            return Self.stsError(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider")
        }
        guard form["RoleArn"] == roleARN, let session = form["RoleSessionName"], !session.isEmpty else {
            return Self.stsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        }
        return .body(status: 200, contentType: "text/xml", body: issued.stsAnswer(
            action: "AssumeRoleWithWebIdentity", roleARN: roleARN, session: session,
            extra: "<SubjectFromWebIdentityToken>system:serviceaccount:default:switchboard</SubjectFromWebIdentityToken>"))
    }

    static func stsError(_ status: Int, _ code: String, _ message: String) -> FakeResponse {
        .body(status: status, contentType: "text/xml", body: FakeIssuedCredentials.stsError(code, message))
    }
}

/// The temporary credentials a fake credential endpoint hands out.
public struct FakeIssuedCredentials: Sendable {
    public var accessKeyID = "ASIAFAKETEMPORARY"
    public var secretAccessKey = "fakeTemporarySecret/+="
    public var sessionToken = "FwoGZXIvYXdzEFAKE//session+token=="
    public var expiration = "2099-01-01T00:00:00Z"

    public init() {}

    /// STS's answer to `action` (`AssumeRole`, `AssumeRoleWithWebIdentity`) handing these out,
    /// with `extra` elements first in its result.
    func stsAnswer(action: String, roleARN: String, session: String, extra: String = "") -> String {
        """
        <\(action)Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <\(action)Result>
            \(extra)
            <AssumedRoleUser><Arn>\(roleARN)/\(session)</Arn><AssumedRoleId>AROAFAKE:\(session)</AssumedRoleId></AssumedRoleUser>
            <Credentials>
              <SessionToken>\(sessionToken)</SessionToken>
              <SecretAccessKey>\(secretAccessKey)</SecretAccessKey>
              <Expiration>\(expiration)</Expiration>
              <AccessKeyId>\(accessKeyID)</AccessKeyId>
            </Credentials>
          </\(action)Result>
          <ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata>
        </\(action)Response>
        """
    }

    /// STS's error document.
    static func stsError(_ code: String, _ message: String) -> String {
        """
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error><RequestId>fake</RequestId></ErrorResponse>
        """
    }

    func json(code: Bool) -> String {
        (code ? #"{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","# : "{")
            + #""AccessKeyId":"\#(accessKeyID)","SecretAccessKey":"\#(secretAccessKey)","Token":"\#(sessionToken)","Expiration":"\#(expiration)"}"#
    }
}
