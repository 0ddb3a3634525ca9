import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Delivers signals as calls on a dispatch queue instead of in a signal handler. The signals are
/// set to SIG_IGN so their default action (exit) does not run; ``ProcessSpawner`` resets them to
/// the default in children.
///
/// ```swift
/// let signals = SignalEvents([SIGHUP, SIGTERM]) { sig in print("got", sig) }
/// ```
public final class SignalEvents: Sendable {
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    /// Starts delivering `signals` to `handler` (on a global queue) until this object is released.
    public init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.resume()
            sources.append(source)
        }
    }

    deinit { for source in sources { source.cancel() } }

    /// The signal's name, e.g. `SIGHUP`.
    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGBUS: "SIGBUS"
        default: "signal \(sig)"
        }
    }
}
