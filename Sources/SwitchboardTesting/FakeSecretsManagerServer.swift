import CloudAuth
import Foundation
import NIOCore
import OpenAIWire
import Synchronization

/// AWS Secrets Manager on a loopback port: `GetSecretValue` only, with SigV4 verified by
/// ``FakeAWSServer`` (service `secretsmanager`); the request must be a JSON 1.1 `POST /` with
/// `X-Amz-Target: secretsmanager.GetSecretValue` and `{"SecretId": …}`. An unknown secret is
/// AWS's 400 `ResourceNotFoundException`. Secrets can be changed while it runs.
public final class FakeSecretsManagerServer: Sendable {
    public let aws: FakeAWSServer
    private let secrets = Mutex<[String: String]>([:])

    private init(aws: FakeAWSServer) { self.aws = aws }

    public static func start(region: String = "us-east-1") async throws -> FakeSecretsManagerServer {
        let box = Mutex<FakeSecretsManagerServer?>(nil)
        let aws = try await FakeAWSServer(service: "secretsmanager", region: region) { request in
            box.withLock { $0 }?.answer(request) ?? .json(status: 503, body: "{}")
        }
        let server = FakeSecretsManagerServer(aws: aws)
        box.withLock { $0 = server }
        return server
    }

    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    public var endpointURL: String { aws.endpointURL }
    public var requests: [RecordedRequest] { aws.requests }
    public func shutdown() async { await aws.shutdown() }

    public func setSecret(_ name: String, _ value: String) { secrets.withLock { $0[name] = value } }

    func answer(_ request: RecordedRequest) -> FakeAWSResponse {
        guard request.method == "POST", request.uri == "/", request.header("content-type") == "application/x-amz-json-1.1" else {
            return .json(status: 400, body: #"{"__type":"SerializationException","message":"expected a JSON 1.1 POST /"}"#)
        }
        guard request.header("x-amz-target") == "secretsmanager.GetSecretValue" else {
            return .json(status: 400, body: #"{"__type":"UnknownOperationException"}"#)
        }
        guard let id = request.json?["SecretId"]?.stringValue else {
            return .json(status: 400, body: #"{"__type":"InvalidParameterException","message":"SecretId is required"}"#)
        }
        guard let value = secrets.withLock({ $0[id] }) else {
            return .json(status: 400, body: #"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#)
        }
        return .json(status: 200, body: JSONValue.object([
            JSONMember("ARN", .string("arn:aws:secretsmanager:\(aws.region):123456789012:secret:\(id)-AbCdEf")),
            JSONMember("Name", .string(id)), JSONMember("SecretString", .string(value)),
            JSONMember("VersionId", .string("EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE")),
            JSONMember("VersionStages", .array([.string("AWSCURRENT")])), JSONMember("CreatedDate", .double(1_700_000_000.5)),
        ]).jsonText)
    }
}
