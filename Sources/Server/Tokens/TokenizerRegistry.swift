import Logging
import Routing
import Synchronization
import SwitchboardConfig
import Tokenizers

/// One worker's tokenizers: each deployment's `model_info.custom_tokenizer` and the OpenAI
/// encodings. Each is loaded once — custom tokenizers in the background at start, encodings at
/// first use — and shared by every event loop; concurrent first uses wait for the same load. A
/// load that fails is reported to its caller and tried again at the next use.
final class TokenizerRegistry: Sendable {
    let loader: TokenizerLoader
    let logger: Logger
    /// Each slot's custom tokenizer, as configured.
    let specs: [CustomTokenizer?]
    /// Whether any deployment has a custom tokenizer (else the router never asks).
    let hasCustom: Bool

    private struct State {
        var loadedBySlot: [(any TokenCounting)?]
        var loads: [String: Task<any TokenCounting, any Error>] = [:]
    }
    private let state: Mutex<State>

    init(deployments: [Deployment], settings: TokenizerSettings, logger: Logger,
         fetch: @escaping TokenizerLoader.Fetch = { url, headers in try await MinimalHTTPGet.get(url, headers: headers) }) {
        loader = TokenizerLoader(settings: settings, fetch: fetch)
        self.logger = logger
        specs = deployments.map { $0.modelInfo.customTokenizer }
        hasCustom = specs.contains { $0 != nil }
        state = Mutex(State(loadedBySlot: Array(repeating: nil, count: deployments.count)))
    }

    /// The slot's custom tokenizer if it is loaded; never waits (the router's question).
    func loaded(slot: Int) -> (any TokenCounting)? {
        state.withLock { slot < $0.loadedBySlot.count ? $0.loadedBySlot[slot] : nil }
    }

    /// Starts loading every custom tokenizer (off the request path).
    func preload() {
        var seen: Set<String> = []
        for (slot, spec) in specs.enumerated() {
            guard let spec, seen.insert(Self.key(spec)).inserted else { continue }
            Task { _ = try? await self.custom(slot: slot) }
        }
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

    /// One load per key: the running or finished load, else a new one.
    private func shared(_ key: String, _ load: @escaping @Sendable () async throws(TokenizerError) -> any TokenCounting) async throws -> any TokenCounting {
        let task = state.withLock { s in
            if let running = s.loads[key] { return running }
            let task = Task<any TokenCounting, any Error> { try await load() }
            s.loads[key] = task
            return task
        }
        do {
            let tokenizer = try await task.value
            return tokenizer
        } catch {
            state.withLock { s in
                if s.loads[key] == task { s.loads[key] = nil }
            }
            logger.warning("tokenizer not loaded: \(error)")
            throw error
        }
    }

    private static func key(_ spec: CustomTokenizer) -> String {
        "hf:\(spec.identifier)@\(spec.revision)"
    }
}
