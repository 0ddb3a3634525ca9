import CloudAuth
import OpenAIWire
import Synchronization
import SwitchboardConfig

/// The credentials of the AWS deployments that assume a role (`aws_role_name`, with
/// `aws_session_name`, `aws_external_id`, `aws_web_identity_token`, `aws_sts_endpoint`) or
/// name a profile of the shared files (`aws_profile_name`), as LiteLLM reads them: one
/// background-refreshed source per deployment (``AWSChainCredentials``), made when the
/// deployment is first planned, read without waiting by each request.
///
/// `AssumeRole` is signed with the deployment's keys (`aws_access_key_id`, ...), else the
/// profile's, else the environment's keys, else the standard AWS credential chain's.
final class AWSDeploymentIdentities: Sendable {
    /// By deployment id; `nil` for a deployment that names neither (looked up once).
    private let byDeployment = Mutex<[String: Identity?]>([:])

    struct Identity: Sendable {
        let credentials: AWSChainCredentials
        /// What the credentials are, for errors (`role arn:...`, `profile name`).
        let what: String
    }

    /// The deployment's own identity, started; `nil` when it names neither a role nor a profile.
    func identity(_ deployment: Deployment, environment env: AWSEnvironment, region: String) throws(OpenAIError) -> Identity? {
        func param(_ key: String) -> String? {
            deployment.params.all.first(where: { $0.key == key })?.value.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        }
        if let known = byDeployment.withLock({ $0[deployment.id] }) { return known }
        let role = param("aws_role_name")
        let profile = param("aws_profile_name")
        guard role != nil || profile != nil else {
            byDeployment.withLock { $0[deployment.id] = .some(nil) }
            return nil
        }

        let profileSource = profile.map { AWSSharedCredentialsFile(environment: env.variables.merging(["AWS_PROFILE": $0]) { $1 }) }
        let identity: Identity
        if let role {
            let keys = try AWSDeploymentSettings.staticCredentials(deployment, environment: env)
            let ownKeys = deployment.params.awsAccessKeyId != nil ? keys : nil
            let standard = env.chain?.chain
            let endpoint = param("aws_sts_endpoint") ?? env.stsEndpoint ?? "https://sts.\(region).amazonaws.com"
            let source = AWSAssumeRoleCredentials(
                roleARN: role, sessionName: param("aws_session_name") ?? "switchboard", externalID: param("aws_external_id"),
                webIdentityToken: param("aws_web_identity_token"), endpoint: endpoint, region: region
            ) {
                if let ownKeys { return ownKeys }
                if let profileSource, let credentials = try profileSource.resolve() { return credentials }
                if let keys { return keys }
                guard let standard else { throw CloudAuthError("no AWS credentials") }
                return try await standard.credentials()
            }
            identity = Identity(credentials: AWSChainCredentials(chain: AWSCredentialChain(sources: [source])), what: "role \(role)")
        } else {
            identity = Identity(credentials: AWSChainCredentials(chain: AWSCredentialChain(sources: [profileSource!])), what: "profile \(profile!)")
        }
        let kept = byDeployment.withLock { all -> Identity in
            if let known = all[deployment.id] ?? nil { return known }
            all[deployment.id] = identity
            return identity
        }
        kept.credentials.start()
        return kept
    }
}
