import Synchronization
import SwitchboardConfig

/// Reads a config's `os.environ/` names from its secret manager (``SecretResolving``), with a
/// cache: a value read less than the refresh interval ago is used again by a reload that does not
/// ask for fresh values (a config file change); a SIGHUP, a due refresh and the first load read
/// the manager. At most 8 reads are in flight at once. Values live in this object's memory only.
///
/// ```swift
/// let resolver = SecretManagerClients.resolver(fetcher: HTTPFetcher())
/// let (config, secrets) = try await loader.load(yaml: text, resolver: resolver)
/// ```
public final class SecretManagerResolver: SecretResolving {
    public typealias ClientFactory = @Sendable (SecretManagerSettings, [String: String]) throws(SecretManagerFailure) -> any SecretManagerClient

    /// LiteLLM's `SECRET_MANAGER_REFRESH_INTERVAL` default: a day.
    public static let defaultRefreshSeconds = 86_400

    private let makeClient: ClientFactory
    private let cache = Mutex<[String: CachedSecret]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    struct CachedSecret {
        var value: String?
        var read: ContinuousClock.Instant
    }

    /// - Parameter makeClient: the client for a config's settings and environment (tests pass
    ///   their own; the default speaks to the real services through an `HTTPFetcher`).
    public init(makeClient: @escaping ClientFactory, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.makeClient = makeClient
        self.now = now
    }

    /// How long read values may be trusted: the manager's LiteLLM variable
    /// (`HCP_VAULT_REFRESH_INTERVAL`, `GOOGLE_SECRET_MANAGER_REFRESH_INTERVAL`), else
    /// `SECRET_MANAGER_REFRESH_INTERVAL`, else a day. Seconds; a value that is not a positive
    /// integer is ignored.
    public static func refreshSeconds(for system: KeyManagementSystem, environment: [String: String]) -> Int {
        let specific: String? = switch system {
        case .hashicorpVault: "HCP_VAULT_REFRESH_INTERVAL"
        case .googleSecretManager: "GOOGLE_SECRET_MANAGER_REFRESH_INTERVAL"
        case .awsSecretManager, .azureKeyVault: nil
        }
        for name in [specific, "SECRET_MANAGER_REFRESH_INTERVAL"].compactMap({ $0 }) {
            if let text = environment[name], let seconds = Int(text), seconds > 0 { return seconds }
        }
        return defaultRefreshSeconds
    }

    public func resolve(_ request: SecretRequest, fresh: Bool) async throws(SecretResolutionError) -> ResolvedSecrets {
        let system = request.settings.system
        let client: any SecretManagerClient
        do {
            client = try makeClient(request.settings, request.environment)
        } catch {
            throw SecretResolutionError(name: nil, system: system, reason: error.description)
        }
        let ttl = Duration.seconds(Self.refreshSeconds(for: system, environment: request.environment))
        let names = request.names.filter { !client.configurationVariables.contains($0) }
        let keyPrefix = "\(system.rawValue) \(client.location) "
        let start = now()
        var values: [String: String] = [:]
        var toRead: [String] = []
        cache.withLock { cache in
            for name in names {
                if !fresh, let cached = cache[keyPrefix + name], start - cached.read < ttl {
                    if let value = cached.value { values[name] = value }
                } else {
                    toRead.append(name)
                }
            }
        }
        let read = try await Self.readAll(toRead, client: client)
        cache.withLock { cache in
            for name in toRead { cache[keyPrefix + name] = CachedSecret(value: read[name], read: start) }
        }
        values.merge(read) { _, new in new }
        return ResolvedSecrets(values: values)
    }

    /// Reads `names`, 8 at a time; the first failure (in `names` order) is thrown.
    static func readAll(_ names: [String], client: any SecretManagerClient) async throws(SecretResolutionError) -> [String: String] {
        var results: [String: Result<String?, SecretManagerFailure>] = [:]
        await withTaskGroup(of: (String, Result<String?, SecretManagerFailure>).self) { group in
            var index = 0
            while index < names.count || !group.isEmpty {
                while index < names.count && index - results.count < 8 {
                    let name = names[index]
                    index += 1
                    group.addTask {
                        do throws(SecretManagerFailure) {
                            return (name, .success(try await client.read(name)))
                        } catch {
                            return (name, .failure(error))
                        }
                    }
                }
                if let (name, result) = await group.next() { results[name] = result }
            }
        }
        var values: [String: String] = [:]
        for name in names {
            switch results[name] {
            case .success(let value?): values[name] = value
            case .success(nil), nil: break
            case .failure(let failure):
                throw SecretResolutionError(name: name, system: client.system, reason: "\(failure) (\(client.location))")
            }
        }
        return values
    }
}
