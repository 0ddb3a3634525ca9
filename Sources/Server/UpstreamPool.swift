import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Providers

/// Keep-alive connections to upstreams, for one event loop. Used only on that loop, so it
/// needs no locks; requests on this loop never hop threads to reach their upstream.
final class UpstreamPool {
    let eventLoop: any EventLoop
    let tls: ClientTLS
    let connectTimeout: TimeAmount
    /// Idle connections per upstream, each list in a box: taking and returning a connection reads
    /// the dictionary (no `_modify` accessor, whose coroutine frames cost three allocations per
    /// request) and changes the box in place.
    private var idle: [UpstreamTarget: IdleConnections] = [:]
    /// The list used last: most workers call one or a few upstreams, so this skips hashing.
    private var recent: IdleConnections?
    /// At most this many idle connections are kept per upstream.
    let maxIdlePerTarget = 512

    /// Flushes this loop's writes at the end of its tick (client answers and upstream requests).
    let flusher: TickFlusher

    init(eventLoop: any EventLoop, tls: ClientTLS, connectTimeout: TimeAmount = .seconds(10)) {
        self.eventLoop = eventLoop
        flusher = TickFlusher(eventLoop: eventLoop)
        self.tls = tls
        self.connectTimeout = connectTimeout
    }

    /// An idle connection to `target`, or `nil` when a new one must be opened.
    func takeIdle(_ target: UpstreamTarget) -> UpstreamConnection? {
        guard let list = existingList(target) else { return nil }
        while let conn = list.connections.popLast() {
            if conn.isUsable { return conn }
        }
        return nil
    }

    private func existingList(_ target: UpstreamTarget) -> IdleConnections? {
        if let recent, recent.target == target { return recent }
        guard let list = idle[target] else { return nil }
        recent = list
        return list
    }

    private func list(_ target: UpstreamTarget) -> IdleConnections {
        if let list = existingList(target) { return list }
        let list = IdleConnections(target)
        idle[target] = list
        recent = list
        return list
    }

    /// Opens a new connection to `target`.
    func connect(_ target: UpstreamTarget) -> EventLoopFuture<UpstreamConnection> {
        let tls: NIOSSLContext?
        if target.tls {
            guard let ctx = self.tls.context else {
                return eventLoop.makeFailedFuture(TLSUnavailable())
            }
            tls = ctx
        } else {
            tls = nil
        }
        let serverName = target.host.isIPAddress ? nil : target.host
        return ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                do {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(host: target.host, port: target.port)
            .assumeIsolated()
            .flatMapThrowing { [self] channel in
                let conn = UpstreamConnection(target: target, pool: self)
                try channel.pipeline.syncOperations.addHandler(conn)
                return conn
            }
            .nonisolated()
    }

    /// Returns a connection whose response ended cleanly.
    func release(_ conn: UpstreamConnection) {
        let list = list(conn.target)
        guard list.connections.count < maxIdlePerTarget else {
            conn.cancel()
            return
        }
        list.connections.append(conn)
    }

    /// Drops a closed connection from the idle list.
    func forget(_ conn: UpstreamConnection) {
        guard let list = existingList(conn.target),
              let i = list.connections.firstIndex(where: { $0 === conn }) else { return }
        list.connections.remove(at: i)
    }

}

struct TLSUnavailable: Error, CustomStringConvertible {
    var description: String { "TLS is not available (the system trust store could not be loaded)" }
}

extension String {
    var isIPAddress: Bool {
        if contains(":") { return true }
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// The idle connections to one upstream (used on one event loop only).
final class IdleConnections {
    let target: UpstreamTarget
    var connections: [UpstreamConnection] = []
    init(_ target: UpstreamTarget) { self.target = target }
}
