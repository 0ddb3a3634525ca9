import Logging
import NIOSSL
import Synchronization

/// The TLS client context for https upstreams, shared by every event loop. Loading the system
/// trust store costs a few megabytes and milliseconds, so it is made at start only when a
/// deployment needs it (an https `api_base`, or a wildcard whose upstream is not known yet), and
/// otherwise on the first https connection.
final class ClientTLS: Sendable {
    private let state = Mutex<State>(.notLoaded)
    private let logger: Logger

    private enum State {
        case notLoaded
        case loaded(NIOSSLContext)
        case unavailable
    }

    init(logger: Logger, loadNow: Bool) {
        self.logger = logger
        if loadNow { _ = context }
    }

    /// The context, loaded on first use; `nil` when the trust store cannot be loaded.
    var context: NIOSSLContext? {
        state.withLock { state in
            switch state {
            case .loaded(let context): return context
            case .unavailable: return nil
            case .notLoaded:
                do {
                    let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                    state = .loaded(context)
                    return context
                } catch {
                    logger.warning("TLS client context unavailable, https upstreams will fail: \(error)")
                    state = .unavailable
                    return nil
                }
            }
        }
    }
}
