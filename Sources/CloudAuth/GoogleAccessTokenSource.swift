import Foundation
import NIOCore
import OpenAIWire

/// OAuth 2.0 access tokens for Google APIs from application default credentials
/// (``GoogleCredentials``): a service account key's signed JWT grant posted to its `token_uri`,
/// a gcloud user's refresh token, or the metadata server (`GET
/// /computeMetadata/v1/instance/service-accounts/default/token` with `Metadata-Flavor: Google`).
/// A token is cached until a minute before it expires.
///
/// ```swift
/// let tokens = try GoogleAccessTokenSource(environment: env, scopes: [GoogleAccessTokenSource.cloudPlatformScope])
/// let bearer = try await tokens.accessToken()
/// ```
public actor GoogleAccessTokenSource {
    public static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
    public static let storageReadScope = "https://www.googleapis.com/auth/devstorage.read_only"

    public let credentials: GoogleCredentials
    public let scopes: [String]
    let fetcher: HTTPFetcher
    /// Seconds before expiry a cached token is replaced.
    let refreshMargin: TimeInterval
    private var cached: (token: String, expires: Date)?
    private var inFlight: Task<(token: String, expires: Date), any Error>?

    public init(credentials: GoogleCredentials, scopes: [String], fetcher: HTTPFetcher = HTTPFetcher(), refreshMargin: TimeInterval = 60) {
        self.credentials = credentials
        self.scopes = scopes
        self.fetcher = fetcher
        self.refreshMargin = refreshMargin
    }

    /// Credentials from the environment (see ``GoogleCredentials/fromEnvironment(_:)``).
    public init(environment: [String: String], scopes: [String], fetcher: HTTPFetcher = HTTPFetcher()) throws(CloudAuthError) {
        self.init(credentials: try GoogleCredentials.fromEnvironment(environment), scopes: scopes, fetcher: fetcher)
    }

    /// A current access token (cached while fresh).
    public func accessToken() async throws(CloudAuthError) -> String {
        if let cached, cached.expires.timeIntervalSinceNow > refreshMargin { return cached.token }
        let task: Task<(token: String, expires: Date), any Error>
        if let inFlight {
            task = inFlight
        } else {
            let (credentials, scopes, fetcher) = (self.credentials, self.scopes, self.fetcher)
            task = Task { try await Self.fetchToken(credentials, scopes: scopes, fetcher: fetcher) }
            inFlight = task
        }
        do {
            let token = try await task.value
            inFlight = nil
            cached = token
            return token.token
        } catch {
            inFlight = nil
            throw (error as? CloudAuthError) ?? CloudAuthError(String(describing: error))
        }
    }

    /// Forgets the cached token (after an API refused it).
    public func invalidate() { cached = nil }

    static func fetchToken(_ credentials: GoogleCredentials, scopes: [String], fetcher: HTTPFetcher) async throws(CloudAuthError) -> (token: String, expires: Date) {
        let answer: HTTPFetchResponse
        let source: String
        do {
            switch credentials {
            case .serviceAccount(let key):
                source = "Google token endpoint \(key.tokenURI)"
                let form = URLEncoding.form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", try key.assertion(scopes: scopes))])
                answer = try await fetcher.post(key.tokenURI, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: ByteBuffer(string: form))
            case .authorizedUser(let clientID, let clientSecret, let refreshToken, let tokenURI):
                source = "Google token endpoint \(tokenURI)"
                let form = URLEncoding.form([("grant_type", "refresh_token"), ("client_id", clientID), ("client_secret", clientSecret), ("refresh_token", refreshToken)])
                answer = try await fetcher.post(tokenURI, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: ByteBuffer(string: form))
            case .metadataServer(let host):
                let base = host.hasPrefix("http://") || host.hasPrefix("https://") ? host : "http://" + host
                source = "Google metadata server \(base)"
                answer = try await fetcher.get(base + "/computeMetadata/v1/instance/service-accounts/default/token?scopes=" + URLEncoding.encode(scopes.joined(separator: ",")),
                                               headers: [("Metadata-Flavor", "Google")])
            }
        } catch let error as CloudAuthError {
            throw error
        } catch {
            throw CloudAuthError("Google access token: \(error)")
        }
        let json = try? JSONValue.parse(answer.text)
        guard answer.isSuccess else {
            let reason = json?["error_description"]?.stringValue ?? json?["error"]?.stringValue ?? ""
            throw CloudAuthError("\(source) answered \(answer.status)\(reason.isEmpty ? "" : ": " + reason)")
        }
        guard let token = json?["access_token"]?.stringValue, !token.isEmpty else {
            throw CloudAuthError("\(source): the answer has no access_token")
        }
        let lifetime = json?["expires_in"]?.intValue ?? 3600
        return (token, Date().addingTimeInterval(TimeInterval(lifetime)))
    }
}
