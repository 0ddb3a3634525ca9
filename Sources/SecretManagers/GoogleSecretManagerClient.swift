import CloudAuth
import Foundation
import OpenAIWire
import SwitchboardConfig

/// Google Secret Manager (`key_management_system: google_secret_manager`), as LiteLLM reads it:
/// `GET https://secretmanager.googleapis.com/v1/projects/{GOOGLE_SECRET_MANAGER_PROJECT_ID}/secrets/{name}/versions/latest:access`
/// with an OAuth access token (application default credentials: a service account key file,
/// a gcloud login or the metadata server); the value is `payload.data`, base64.
/// `GOOGLE_SECRET_MANAGER_ENDPOINT` replaces the service's address (emulators and the tests).
public struct GoogleSecretManagerClient: SecretManagerClient {
    public let system = KeyManagementSystem.googleSecretManager
    public let configurationVariables: Set<String> = [
        "GOOGLE_SECRET_MANAGER_PROJECT_ID", "GOOGLE_SECRET_MANAGER_REFRESH_INTERVAL", "GOOGLE_SECRET_MANAGER_ENDPOINT",
        "GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST",
    ]

    let project: String
    let endpoint: String
    let tokens: GoogleAccessTokenSource
    let fetcher: HTTPFetcher

    public var location: String { "\(endpoint) (project \(project))" }

    public init(environment: [String: String], fetcher: HTTPFetcher, tokens: GoogleAccessTokenSource? = nil) throws(SecretManagerFailure) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let project = value("GOOGLE_SECRET_MANAGER_PROJECT_ID") else {
            throw SecretManagerFailure("GOOGLE_SECRET_MANAGER_PROJECT_ID is not set")
        }
        self.project = project
        endpoint = trimmedBase(value("GOOGLE_SECRET_MANAGER_ENDPOINT") ?? "https://secretmanager.googleapis.com")
        if let tokens {
            self.tokens = tokens
        } else {
            do {
                self.tokens = try GoogleAccessTokenSource(environment: environment, scopes: [GoogleAccessTokenSource.cloudPlatformScope],
                                                          fetcher: fetcher)
            } catch {
                throw SecretManagerFailure("Google credentials: \(error)")
            }
        }
        self.fetcher = fetcher
    }

    func accessURL(_ name: String) -> String {
        "\(endpoint)/v1/projects/\(URLEncoding.encode(project))/secrets/\(URLEncoding.encode(name))/versions/latest:access"
    }

    public func read(_ name: String) async throws(SecretManagerFailure) -> String? {
        let token: String
        do {
            token = try await tokens.accessToken()
        } catch {
            throw SecretManagerFailure("Google access token: \(error)")
        }
        let url = accessURL(name)
        let response = try await fetcher.exchange(HTTPFetchRequest(method: "GET", url: url, headers: [("Authorization", "Bearer \(token)")]),
                                                  purpose: "GET \(url)")
        let json = response.json
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw .status(response, message: [json?["error"]?["status"]?.stringValue, json?["error"]?["message"]?.stringValue]
                .compactMap { $0 }.joined(separator: ": "))
        }
        guard let encoded = json?["payload"]?["data"]?.stringValue else {
            throw SecretManagerFailure("the answer has no payload.data")
        }
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8) else {
            throw SecretManagerFailure("payload.data is not base64 of UTF-8 text")
        }
        return text
    }
}
