import CloudAuth

/// STS `AssumeRole` on a loopback port (``FakeAWSServer``, service `sts`): the call must be
/// signed with the base ``credentials`` (else AWS's 403), name ``roleARN`` (else 403
/// `AccessDenied`) and a session; the answer is the query API's XML with ``issued``'s
/// temporary credentials.
public enum FakeSTSServer {
    public static func start(
        region: String = "us-east-1", credentials: AWSCredentials = FakeAWSServer.testCredentials,
        roleARN: String = "arn:aws:iam::123456789012:role/bedrock-caller", issued: FakeIssuedCredentials = FakeIssuedCredentials()
    ) async throws -> FakeAWSServer {
        try await FakeAWSServer(service: "sts", region: region, credentials: credentials) { request in
            let form = request.formFields
            guard form["Action"] == "AssumeRole", form["Version"] == "2011-06-15" else {
                return .xml(status: 400, body: FakeIssuedCredentials.stsError("InvalidAction", "Could not find operation \(form["Action"] ?? "")"))
            }
            guard form["RoleArn"] == roleARN, let session = form["RoleSessionName"], !session.isEmpty else {
                return .xml(status: 403, body: FakeIssuedCredentials.stsError("AccessDenied", "User is not authorized to perform: sts:AssumeRole on resource: \(form["RoleArn"] ?? "")"))
            }
            return .xml(status: 200, body: issued.stsAnswer(action: "AssumeRole", roleARN: roleARN, session: session))
        }
    }
}
