import Dispatch
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Accepts connections from a listening socket shared with other worker processes, on a thread
/// of its own, and hands each accepted descriptor to `accepted` (which gives it to NIO).
///
/// Why not NIO's `ServerSocketChannel` (`ServerBootstrap.withBoundSocket`): every process polling
/// one shared socket is woken for each new connection and all but one find nothing to accept;
/// NIO treats a readable listener with nothing to accept as impossible (an `assert` in
/// `BaseSocketChannel.readable0`), so debug builds crash. Here that case is simply "another
/// worker took it". The socket is non-blocking (set once by the supervisor for all processes).
///
/// ``stop()`` closes only this process's descriptor: connections waiting in the shared accept
/// queue stay there for the other workers instead of being reset.
final class InheritedListener: Sendable {
    private let descriptor: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    /// Completed once the thread has stopped accepting and closed the descriptor.
    let closed: EventLoopPromise<Void>

    init(descriptor: Int32, closed: EventLoopPromise<Void>) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw IOError(errnoCode: errno, reason: "pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let flags = fcntl(descriptor, F_GETFL)
        if flags & O_NONBLOCK == 0 { _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
        self.descriptor = descriptor
        wakeRead = fds[0]
        wakeWrite = fds[1]
        self.closed = closed
    }

    deinit { _ = close(wakeWrite) }

    /// Starts the accept thread.
    func start(accepted: @escaping @Sendable (Int32) -> Void) {
        let descriptor = self.descriptor
        let wakeRead = self.wakeRead
        let closed = self.closed
        DispatchQueue(label: "switchboard.accept").async {
            var polls = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                         pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            loop: while true {
                polls[0].revents = 0
                polls[1].revents = 0
                if poll(&polls, 2, -1) < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if polls[1].revents != 0 { break }
                if polls[0].revents & Int16(POLLERR | POLLNVAL) != 0 { break }
                while true {
                    let connection = accept(descriptor, nil, nil)
                    if connection >= 0 {
                        // A worker spawns nothing, so close-on-exec can follow accept.
                        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                        _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
                        accepted(connection)
                        continue
                    }
                    switch errno {
                    case EINTR, ECONNABORTED, EPROTO: continue
                    case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                        // Out of descriptors or memory: back off instead of spinning on a readable socket.
                        usleep(10_000)
                        continue loop
                    default:
                        continue loop  // EAGAIN: another worker took it
                    }
                }
            }
            _ = close(descriptor)
            _ = close(wakeRead)
            closed.succeed()
        }
    }

    /// Stops accepting and closes this process's descriptor (asynchronously; see ``closed``).
    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }
}
