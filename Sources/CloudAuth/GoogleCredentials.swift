import Foundation
import OpenAIWire

/// What Google application default credentials are: a key file named by
/// `GOOGLE_APPLICATION_CREDENTIALS` (else gcloud's `~/.config/gcloud/application_default_credentials.json`
/// when it exists), else the metadata server (`GCE_METADATA_HOST`, default `metadata.google.internal`).
public enum GoogleCredentials: Sendable {
    /// A service account key (`"type": "service_account"`).
    case serviceAccount(GoogleServiceAccountKey)
    /// A gcloud user login (`"type": "authorized_user"`): a refresh token.
    case authorizedUser(clientID: String, clientSecret: String, refreshToken: String, tokenURI: String)
    /// The metadata server at `host` (`host[:port]`).
    case metadataServer(host: String)

    /// Reads the environment (and the key file it names); throws naming the file and the key at fault.
    public static func fromEnvironment(_ environment: [String: String]) throws(CloudAuthError) -> GoogleCredentials {
        var path = environment.nonEmpty("GOOGLE_APPLICATION_CREDENTIALS")
        if path == nil, let home = environment.nonEmpty("HOME") {
            let wellKnown = home + "/.config/gcloud/application_default_credentials.json"
            if FileManager.default.fileExists(atPath: wellKnown) { path = wellKnown }
        }
        guard let path else { return .metadataServer(host: environment.nonEmpty("GCE_METADATA_HOST") ?? "metadata.google.internal") }
        guard let text = try AWSSharedFiles.read(path) else {
            throw CloudAuthError("Google credentials: \(path) (GOOGLE_APPLICATION_CREDENTIALS) does not exist")
        }
        return try parse(text, path: path)
    }

    /// Parses a credentials JSON file.
    public static func parse(_ text: String, path: String) throws(CloudAuthError) -> GoogleCredentials {
        guard let json = try? JSONValue.parse(text) else { throw CloudAuthError("Google credentials: \(path) is not JSON") }
        func field(_ name: String) throws(CloudAuthError) -> String {
            guard let value = json[name]?.stringValue, !value.isEmpty else {
                throw CloudAuthError("Google credentials: \(path) has no \(name)")
            }
            return value
        }
        switch json["type"]?.stringValue {
        case "service_account":
            let key = try GoogleServiceAccountKey(
                clientEmail: field("client_email"), privateKeyPEM: field("private_key"),
                privateKeyID: json["private_key_id"]?.stringValue,
                tokenURI: json["token_uri"]?.stringValue ?? GoogleServiceAccountKey.defaultTokenURI, path: path)
            return .serviceAccount(key)
        case "authorized_user":
            return .authorizedUser(clientID: try field("client_id"), clientSecret: try field("client_secret"),
                                   refreshToken: try field("refresh_token"),
                                   tokenURI: json["token_uri"]?.stringValue ?? GoogleServiceAccountKey.defaultTokenURI)
        case let other:
            throw CloudAuthError("Google credentials: \(path) has type \(other.map { "'\($0)'" } ?? "(none)"); expected service_account or authorized_user")
        }
    }
}
