import Foundation

/// The standard AWS credential chain, in botocore's order (LiteLLM runs on boto3): environment
/// variables, web identity (EKS), the shared credentials/config file profile, the container
/// endpoint (ECS, EKS Pod Identity), EC2 instance metadata. The first source that is configured
/// answers; a source that is configured but fails stops the chain with its reason, as the SDKs
/// do. Credentials are cached and fetched again five minutes before they expire.
///
/// ```swift
/// let chain = AWSCredentialChain.standard(environment: ProcessInfo.processInfo.environment)
/// let credentials = try await chain.credentials()
/// ```
public actor AWSCredentialChain {
    public let sources: [any AWSCredentialSource]
    /// How long before expiry cached credentials are replaced.
    public nonisolated let refreshMargin: TimeInterval
    private var cached: AWSCredentials?
    private var inFlight: Task<AWSCredentials, any Error>?

    public init(sources: [any AWSCredentialSource], refreshMargin: TimeInterval = 300) {
        self.sources = sources
        self.refreshMargin = refreshMargin
    }

    /// The standard chain for `environment`.
    public static func standard(environment: [String: String], fetcher: HTTPFetcher = HTTPFetcher()) -> AWSCredentialChain {
        AWSCredentialChain(sources: [
            AWSEnvironmentCredentials(environment: environment),
            AWSWebIdentityCredentials(environment: environment, fetcher: fetcher),
            AWSSharedCredentialsFile(environment: environment),
            AWSContainerCredentials(environment: environment, fetcher: fetcher.with(timeout: .seconds(5))),
            AWSInstanceMetadataCredentials(environment: environment, fetcher: fetcher.with(timeout: .seconds(2))),
        ])
    }

    /// Current credentials: the cached ones while they are fresh, else resolved again.
    public func credentials() async throws(CloudAuthError) -> AWSCredentials {
        if let cached, !isStale(cached) { return cached }
        let task: Task<AWSCredentials, any Error>
        if let inFlight {
            task = inFlight
        } else {
            let sources = self.sources
            task = Task { try await Self.resolve(sources) }
            inFlight = task
        }
        do {
            let credentials = try await task.value
            inFlight = nil
            cached = credentials
            return credentials
        } catch {
            inFlight = nil
            throw (error as? CloudAuthError) ?? CloudAuthError(String(describing: error))
        }
    }

    /// Forgets the cached credentials (after an upstream refused them).
    public func invalidate() { cached = nil }

    private func isStale(_ credentials: AWSCredentials) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSinceNow < refreshMargin
    }

    static func resolve(_ sources: [any AWSCredentialSource]) async throws(CloudAuthError) -> AWSCredentials {
        var skipped: [String] = []
        var lastFailure = ""
        for (n, source) in sources.enumerated() {
            do {
                if let credentials = try await source.resolve() { return credentials }
            } catch {
                // The last resort (instance metadata) is never "configured": its failure means none was found.
                guard n == sources.count - 1 else { throw error }
                lastFailure = "; \(error)"
            }
            skipped.append(source.name)
        }
        throw CloudAuthError("no AWS credentials found (tried \(skipped.joined(separator: ", "))\(lastFailure)): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a web identity token or an instance role")
    }
}
