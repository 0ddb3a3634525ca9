#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The TCP socket every worker accepts from: bound and listening once, in the supervisor, and
/// inherited by each worker (which closes only its own duplicate when it stops accepting).
///
/// ```swift
/// let socket = try ListeningSocket(host: "0.0.0.0", port: 4000)
/// print(socket.port)       // the bound port (useful with port 0)
/// ```
public final class ListeningSocket: Sendable {
    /// The descriptor, close-on-exec (workers receive it through ``ProcessSpawner``).
    public let descriptor: Int32
    /// The port actually bound.
    public let port: Int

    /// Binds `host:port` (IPv4 or IPv6 literal, or a name resolved with `getaddrinfo`) with
    /// SO_REUSEADDR and listens with `backlog`.
    public init(host: String, port: Int, backlog: Int32 = 1024) throws(SupervisorError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SupervisorError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            // Non-blocking for every process sharing it: a worker woken for a connection that another
            // worker took must get EAGAIN, not block.
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { lastError = errnoText(); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, backlog) == 0 else {
                lastError = errnoText()
                closeDescriptor(fd)
                continue
            }
            descriptor = fd
            self.port = Self.boundPort(fd) ?? port
            return
        }
        throw SupervisorError("cannot listen on \(host):\(port): \(lastError)")
    }

    /// Closes the supervisor's own descriptor: once every worker has closed its duplicate too, the
    /// port refuses connections.
    public func close() { closeDescriptor(descriptor) }

    private static func boundPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return nil
        }
    }
}
