import CallModel
import NIOCore
import Routing

/// What one event loop owns alone: its upstream connections, random generator, per-deployment
/// stats and the sinks of its finished calls. Touched only on that loop, so nothing here is
/// locked.
final class LoopState {
    let pool: UpstreamPool
    /// The attempt timeouts of this loop's calls.
    let deadlines: AttemptDeadlines
    var random: FastRandom
    /// Per-deployment stats of this loop's calls (also the first of ``sinks``).
    let stats: DeploymentStatsTable
    /// Receive every finished call's record, in order.
    let sinks: [any CallRecordSink]
    /// Open client connections, for the idle sweep.
    var connections: [ObjectIdentifier: HTTPGatewayHandler] = [:]

    /// Closes client connections idle (or slow to send a request) for longer than `limit`.
    func sweepIdleConnections(limit: UInt64) {
        let now = NIODeadline.now().uptimeNanoseconds
        for handler in Array(connections.values) { handler.closeIfStale(now: now, limit: limit) }
    }

    init(pool: UpstreamPool, deployments: Int, extraSinks: [any CallRecordSink] = []) {
        self.pool = pool
        deadlines = AttemptDeadlines(eventLoop: pool.eventLoop)
        random = FastRandom()
        stats = DeploymentStatsTable(deployments: deployments)
        sinks = [stats] + extraSinks
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A random version-4 UUID string, for `x-litellm-call-id`.
    func makeCallID() -> String {
        var a = random.next()
        var b = random.next()
        a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { out in
            var n = 0
            func put(_ v: UInt64, _ nibbles: Int, _ shift: Int) {
                for i in 0..<nibbles {
                    out[n] = Self.hex[Int((v >> UInt64(shift - 4 * i)) & 0xF)]
                    n += 1
                }
            }
            put(a, 8, 60); out[n] = 45; n += 1
            put(a, 4, 28); out[n] = 45; n += 1
            put(a, 4, 12); out[n] = 45; n += 1
            put(b, 4, 60); out[n] = 45; n += 1
            put(b, 12, 44)
            return n
        }
    }
}

/// Carries a ``LoopState`` across the `Sendable` boundary of channel initializers. Created
/// before the loops run; read only on its own loop (checked in debug builds).
struct LoopStateBox: @unchecked Sendable {
    private let state: LoopState
    let eventLoop: any EventLoop

    init(_ state: LoopState, eventLoop: any EventLoop) {
        self.state = state
        self.eventLoop = eventLoop
    }

    var value: LoopState {
        eventLoop.assertInEventLoop()
        return state
    }
}
