import CloudAuth
import Foundation
import NIOCore

/// Microsoft Entra access tokens for one resource, from the environment as azure-identity's
/// `DefaultAzureCredential` reads it, in its order:
/// 1. a service principal with a secret: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`
///    (client-credentials grant at `{AZURE_AUTHORITY_HOST}/{tenant}/oauth2/v2.0/token`);
/// 2. workload identity (AKS): the same with `AZURE_FEDERATED_TOKEN_FILE` as a JWT client assertion;
/// 3. managed identity on App Service, Container Apps, Functions: `GET {IDENTITY_ENDPOINT}
///    ?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER: {IDENTITY_HEADER}`;
/// 4. managed identity on VMs and AKS nodes: the instance metadata service, `GET
///    http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…` with
///    `Metadata: true` (`AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces the address).
/// With `AZURE_CLIENT_ID` set, managed identity asks for that user-assigned identity.
struct AzureAccessTokenSource: Sendable {
    static let variables: Set<String> = [
        "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST", "AZURE_FEDERATED_TOKEN_FILE",
        "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    ]

    enum Method: Sendable {
        case clientSecret(tokenURL: String, clientID: String, secret: String)
        case federatedToken(tokenURL: String, clientID: String, file: String)
        case appService(endpoint: String, header: String, clientID: String?)
        case instanceMetadata(host: String, clientID: String?)
    }

    let method: Method
    /// `https://vault.azure.net`: the resource (managed identity) or, with `/.default`, the scope.
    let resource: String
    let fetcher: HTTPFetcher

    init(environment: [String: String], resource: String, fetcher: HTTPFetcher) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let authority = trimmedBase(value("AZURE_AUTHORITY_HOST") ?? "https://login.microsoftonline.com")
        let clientID = value("AZURE_CLIENT_ID")
        if let tenant = value("AZURE_TENANT_ID"), let clientID, let secret = value("AZURE_CLIENT_SECRET") {
            method = .clientSecret(tokenURL: "\(authority)/\(URLEncoding.encode(tenant))/oauth2/v2.0/token", clientID: clientID, secret: secret)
        } else if let tenant = value("AZURE_TENANT_ID"), let clientID, let file = value("AZURE_FEDERATED_TOKEN_FILE") {
            method = .federatedToken(tokenURL: "\(authority)/\(URLEncoding.encode(tenant))/oauth2/v2.0/token", clientID: clientID, file: file)
        } else if let endpoint = value("IDENTITY_ENDPOINT"), let header = value("IDENTITY_HEADER") {
            method = .appService(endpoint: endpoint, header: header, clientID: clientID)
        } else {
            method = .instanceMetadata(host: trimmedBase(value("AZURE_POD_IDENTITY_AUTHORITY_HOST") ?? "http://169.254.169.254"), clientID: clientID)
        }
        self.resource = resource
        self.fetcher = fetcher
    }

    /// What is used, for errors: `client secret of client-1`, `managed identity (instance metadata)`.
    var description: String {
        switch method {
        case .clientSecret(_, let clientID, _): "the client secret of \(clientID) (AZURE_CLIENT_SECRET)"
        case .federatedToken(_, let clientID, _): "the workload identity of \(clientID) (AZURE_FEDERATED_TOKEN_FILE)"
        case .appService: "the managed identity (IDENTITY_ENDPOINT)"
        case .instanceMetadata: "the managed identity (instance metadata; set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET to use a service principal)"
        }
    }

    func accessToken() async throws(SecretManagerFailure) -> String {
        let request: HTTPFetchRequest
        var fetcher = self.fetcher
        switch method {
        case .clientSecret(let url, let clientID, let secret):
            request = Self.grant(url, [("grant_type", "client_credentials"), ("client_id", clientID), ("scope", resource + "/.default"),
                                       ("client_secret", secret)])
        case .federatedToken(let url, let clientID, let file):
            guard let assertion = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw SecretManagerFailure("cannot read AZURE_FEDERATED_TOKEN_FILE \(file)")
            }
            request = Self.grant(url, [("grant_type", "client_credentials"), ("client_id", clientID), ("scope", resource + "/.default"),
                                       ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                                       ("client_assertion", assertion.trimmingCharacters(in: .whitespacesAndNewlines))])
        case .appService(let endpoint, let header, let clientID):
            let query = "api-version=2019-08-01&resource=\(URLEncoding.encode(resource))" + (clientID.map { "&client_id=\(URLEncoding.encode($0))" } ?? "")
            request = HTTPFetchRequest(method: "GET", url: endpoint + (endpoint.contains("?") ? "&" : "?") + query,
                                       headers: [("X-IDENTITY-HEADER", header)])
        case .instanceMetadata(let host, let clientID):
            let query = "api-version=2018-02-01&resource=\(URLEncoding.encode(resource))" + (clientID.map { "&client_id=\(URLEncoding.encode($0))" } ?? "")
            request = HTTPFetchRequest(method: "GET", url: "\(host)/metadata/identity/oauth2/token?\(query)", headers: [("Metadata", "true")])
            fetcher = fetcher.with(timeout: .seconds(5))
        }
        let purpose = "Entra token for \(description)"
        let response = try await fetcher.exchange(request, purpose: purpose)
        let json = response.json
        guard response.status == 200 else {
            let message = json?["error_description"]?.stringValue ?? json?["error"]?.stringValue ?? json?["message"]?.stringValue
            throw SecretManagerFailure("\(purpose): " + SecretManagerFailure.status(response, message: message).description)
        }
        guard let token = json?["access_token"]?.stringValue, !token.isEmpty else {
            throw SecretManagerFailure("\(purpose): the answer has no access_token")
        }
        return token
    }

    static func grant(_ url: String, _ fields: [(String, String)]) -> HTTPFetchRequest {
        HTTPFetchRequest(method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                         body: ByteBuffer(string: URLEncoding.form(fields)))
    }
}
