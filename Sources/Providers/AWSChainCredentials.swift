import CloudAuth
import Foundation
import Synchronization

/// Credentials from the standard AWS chain (web identity on EKS, shared profiles, the ECS/EKS
/// container endpoint, EC2 instance metadata) for AWS deployments that configure no keys. They
/// are fetched in the background from the moment the first such deployment is planned (at
/// start), fetched again before they expire (and retried with backoff after a failure), and
/// read without waiting by each request, which is signed with them.
final class AWSChainCredentials: Sendable {
    let chain: AWSCredentialChain
    private let state = Mutex<(current: AWSCredentials?, problem: String?, started: Bool)>((nil, nil, false))

    init(chain: AWSCredentialChain) {
        self.chain = chain
    }

    /// Starts the background fetch (once).
    func start() {
        let first = state.withLock { s in
            defer { s.started = true }
            return !s.started
        }
        guard first else { return }
        let weakSelf = WeakReference(self)
        let chain = self.chain
        Task.detached { await Self.keepFresh(chain, weakSelf) }
    }

    /// The current credentials, or why there are none yet.
    func current() -> Result<AWSCredentials, CloudAuthError> {
        state.withLock { s in
            if let current = s.current, current.expiration.map({ $0.timeIntervalSinceNow > 0 }) ?? true { return .success(current) }
            return .failure(CloudAuthError(s.problem ?? (s.current == nil ? "they are still being fetched" : "they expired and could not be renewed")))
        }
    }

    /// Fetches until the owner is gone: again five minutes before expiry (the chain's margin),
    /// at least hourly; after a failure in 1, 2, 4 ... 60 s.
    private static func keepFresh(_ chain: AWSCredentialChain, _ owner: WeakReference<AWSChainCredentials>) async {
        var backoff = 1.0
        while !Task.isCancelled, owner.value != nil {
            var wait: Double
            do {
                let credentials = try await chain.credentials()
                owner.value?.state.withLock { $0 = (credentials, nil, true) }
                backoff = 1
                wait = credentials.expiration.map { $0.timeIntervalSinceNow - chain.refreshMargin + 1 } ?? 3600
                wait = min(max(wait, 1), 3600)
            } catch {
                owner.value?.state.withLock { $0.problem = error.description }
                wait = backoff
                backoff = min(backoff * 2, 60)
            }
            try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }
}

/// A weak reference that can cross tasks.
final class WeakReference<T: AnyObject & Sendable>: Sendable {
    private let box: Mutex<Weak>

    private struct Weak: @unchecked Sendable {
        weak var value: T?
    }

    init(_ value: T) {
        box = Mutex(Weak(value: value))
    }

    var value: T? { box.withLock { $0.value } }
}
