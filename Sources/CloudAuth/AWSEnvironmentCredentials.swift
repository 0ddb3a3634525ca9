/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct AWSEnvironmentCredentials: AWSCredentialSource {
    let environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    public var name: String { "environment" }

    public func resolve() throws(CloudAuthError) -> AWSCredentials? {
        let id = environment.nonEmpty("AWS_ACCESS_KEY_ID")
        let secret = environment.nonEmpty("AWS_SECRET_ACCESS_KEY")
        switch (id, secret) {
        case (nil, nil): return nil
        case (let id?, let secret?):
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment.nonEmpty("AWS_SESSION_TOKEN"))
        default:
            throw CloudAuthError("environment: only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both")
        }
    }
}
