import Foundation

/// An AWS access key: id, secret and, for temporary credentials, the session token and when
/// they expire.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

/// Why credentials or a token could not be had: one line, naming the source and the reason,
/// never a secret.
public struct CloudAuthError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// One place AWS credentials may come from (environment, shared file, web identity, container,
/// instance metadata).
public protocol AWSCredentialSource: Sendable {
    /// A short name for messages: `environment`, `shared credentials file`, ...
    var name: String { get }

    /// The credentials; nil when this source is not configured here (the chain tries the next
    /// one); throws when it is configured but fails (the chain stops there, as the AWS SDKs do).
    func resolve() async throws(CloudAuthError) -> AWSCredentials?
}

extension [String: String] {
    /// The variable's value, nil when unset or empty.
    func nonEmpty(_ name: String) -> String? {
        guard let value = self[name], !value.isEmpty else { return nil }
        return value
    }
}
