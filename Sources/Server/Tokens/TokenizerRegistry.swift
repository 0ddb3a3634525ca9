import CloudAuth
import Logging
import Routing
import Synchronization
import SwitchboardConfig
import Tokenizers

/// One worker's tokenizers: each deployment's `model_info.custom_tokenizer` and the OpenAI
/// encodings. Each is loaded at its first use — a `/utils/token_counter` call, or the first call
/// routed to the deployment (in the background: the router uses the fast estimate until it is
/// loaded) — and then shared by every event loop; concurrent first uses wait for the same load.
/// A load that fails is reported to its callers and not tried again for ``retryAfterFailure``.
final class TokenizerRegistry: Sendable {
    static let retryAfterFailure: Duration = .seconds(30)

    let loader: TokenizerLoader
    let logger: Logger
    /// Each slot's custom tokenizer, as configured.
    let specs: [CustomTokenizer?]
    /// Whether any deployment has a custom tokenizer (else the router never asks).
    let hasCustom: Bool

    private struct State {
        var loadedBySlot: [(any TokenCounting)?]
        var loads: [String: Task<any TokenCounting, any Error>] = [:]
        var failures: [String: (error: String, at: ContinuousClock.Instant)] = [:]
    }
    private let state: Mutex<State>

    init(deployments: [Deployment], settings: TokenizerSettings, logger: Logger,
         fetch: @escaping TokenizerLoader.Fetch = TokenizerRegistry.download) {
        loader = TokenizerLoader(settings: settings, fetch: fetch)
        self.logger = logger
        specs = deployments.map { $0.modelInfo.customTokenizer }
        hasCustom = specs.contains { $0 != nil }
        state = Mutex(State(loadedBySlot: Array(repeating: nil, count: deployments.count)))
    }

    /// Downloads a tokenizer file (the hub redirects to its CDN): two minutes, up to 512 MiB.
    @Sendable static func download(_ url: String, _ headers: [(String, String)]) async throws -> (status: Int, body: [UInt8]) {
        let answer = try await HTTPFetcher(timeout: .seconds(120), maxBodyBytes: 512 << 20)
            .getFollowingRedirects(url, headers: headers.map { (name: $0.0, value: $0.1) })
        return (answer.status, answer.bytes)
    }

    /// The slot's custom tokenizer if it is loaded; never waits (the router's question). When the
    /// slot has one that is not loaded, its load starts in the background.
    func loaded(slot: Int) -> (any TokenCounting)? {
        guard slot < specs.count, let spec = specs[slot] else { return nil }
        let (tokenizer, start) = state.withLock { s -> ((any TokenCounting)?, Bool) in
            if let t = s.loadedBySlot[slot] { return (t, false) }
            let key = Self.key(spec)
            return (nil, s.loads[key] == nil && !Self.failedRecently(s, key))
        }
        if start { Task { _ = try? await self.custom(slot: slot) } }
        return tokenizer
    }

    /// The slot's custom tokenizer, loading it if needed; `nil` when the deployment has none.
    func custom(slot: Int) async throws -> (any TokenCounting)? {
        guard slot < specs.count, let spec = specs[slot] else { return nil }
        let key = Self.key(spec)
        let tokenizer = try await shared(key) { [loader] () async throws(TokenizerError) -> any TokenCounting in
            try await loader.huggingFace(identifier: spec.identifier, revision: spec.revision, authToken: spec.authToken, localPath: spec.localPath)
        }
        state.withLock { s in
            for (i, other) in specs.enumerated() where other.map(Self.key) == key { s.loadedBySlot[i] = tokenizer }
        }
        return tokenizer
    }

    /// An OpenAI encoding, loading its rank file if needed.
    func encoding(_ name: OpenAIEncodingName) async throws -> any TokenCounting {
        try await shared("tiktoken:\(name.rawValue)") { [loader] () async throws(TokenizerError) -> any TokenCounting in
            try await loader.tiktoken(name)
        }
    }

    /// One load per key: the running or finished load, else a new one (unless one failed recently).
    private func shared(_ key: String, _ load: @escaping @Sendable () async throws(TokenizerError) -> any TokenCounting) async throws -> any TokenCounting {
        let task = try state.withLock { s throws(TokenizerError) in
            if let running = s.loads[key] { return running }
            if Self.failedRecently(s, key), let failure = s.failures[key] { throw TokenizerError(failure.error) }
            let task = Task<any TokenCounting, any Error> { try await load() }
            s.loads[key] = task
            return task
        }
        do {
            return try await task.value
        } catch {
            let first = state.withLock { s in
                guard s.loads[key] == task else { return false }
                s.loads[key] = nil
                s.failures[key] = ("\(error)", .now)
                return true
            }
            if first { logger.warning("tokenizer not loaded: \(error)") }
            throw error
        }
    }

    private static func failedRecently(_ s: State, _ key: String) -> Bool {
        guard let failure = s.failures[key] else { return false }
        return ContinuousClock.now - failure.at < retryAfterFailure
    }

    private static func key(_ spec: CustomTokenizer) -> String {
        "hf:\(spec.identifier)@\(spec.revision)"
    }
}
