import CloudAuth
import OpenAIWire
import Synchronization
import SwitchboardConfig

/// One secret manager's API: reads one secret by its `os.environ/` name.
public protocol SecretManagerClient: Sendable {
    var system: KeyManagementSystem { get }
    /// Where it reads from (a vault URL, a project, a region), for cache keys and messages.
    var location: String { get }
    /// Variables the client's own settings come from: never looked up in the manager itself
    /// (LiteLLM reads its AWS credentials and region from the environment the same way).
    var configurationVariables: Set<String> { get }
    /// The value, or `nil` when the manager does not hold this secret (the environment is then
    /// used, as in LiteLLM). Any other failure throws.
    func read(_ name: String) async throws(SecretManagerFailure) -> String?
}

/// Why a secret manager could not answer: a reason fit for a log line, never a secret value.
public struct SecretManagerFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// `HTTP 403 (permission denied: …)`: the status and the service's own error text, cut short.
    static func status(_ response: HTTPFetchResponse, message: String?) -> SecretManagerFailure {
        var text = "HTTP \(response.status)"
        if let message, !message.isEmpty { text += " (\(message.prefix(200)))" }
        return SecretManagerFailure(text)
    }
}

extension HTTPFetchResponse {
    /// The body as JSON, `nil` when it is not.
    var json: JSONValue? { try? JSONValue.parse(text) }
}

extension HTTPFetcher {
    /// `fetch`, with a failure to get an answer as a ``SecretManagerFailure`` naming what was asked.
    func exchange(_ request: HTTPFetchRequest, purpose: String) async throws(SecretManagerFailure) -> HTTPFetchResponse {
        do {
            return try await fetch(request)
        } catch {
            throw SecretManagerFailure("\(purpose) failed: \(error)")
        }
    }
}

/// `url` without a trailing slash.
func trimmedBase(_ url: String) -> String {
    var url = Substring(url)
    while url.hasSuffix("/") { url = url.dropLast() }
    return String(url)
}

/// A value a client works out at most once (a login, an access token, the primary secret),
/// shared by its concurrent reads; a failure is every waiting read's failure.
final class Once<Value: Sendable>: Sendable {
    private let task = Mutex<Task<Value, any Error>?>(nil)

    func value(_ make: @escaping @Sendable () async throws -> Value) async throws(SecretManagerFailure) -> Value {
        let running = task.withLock { task in
            if let task { return task }
            let made = Task { try await make() }
            task = made
            return made
        }
        do {
            return try await running.value
        } catch let failure as SecretManagerFailure {
            throw failure
        } catch {
            throw SecretManagerFailure("\(error)")
        }
    }
}
