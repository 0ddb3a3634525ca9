import Dispatch
import Logging
import Server

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT: readiness turns 503, the listening socket closes (new connections are
/// refused), and the runner then waits for in-flight calls to finish before exiting.
enum ShutdownSignals {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(server: GatewayServer, logger: Logger) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                logger.info("signal \(sig): stopping")
                server.gateway.isReady = false
                Task { try? await server.stop() }
            }
            source.resume()
            sources.append(source)
        }
    }
}
