import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The line protocol between the supervisor and one worker, over a Unix stream socket pair that
/// the worker inherits. Worker → supervisor: `ready` (serving), `closed` (stopped accepting).
/// Supervisor → worker: `retire` (stop accepting, drain, exit). End of file means the other side
/// is gone: the worker exited, or the supervisor died (and then the worker drains and exits, so no
/// orphans remain even after a SIGKILL of the supervisor).
public enum LinkMessage: String, Sendable {
    case ready
    case closed
    case retire
}

/// One end of a worker link.
///
/// ```swift
/// let (supervisorEnd, workerEnd) = try WorkerLink.makePair()
/// supervisorEnd.startReading { message in ... } onEnd: { ... }
/// ```
public final class WorkerLink: Sendable {
    /// Close-on-exec descriptor of this end.
    public let descriptor: Int32

    /// Wraps an inherited or created descriptor.
    public init(descriptor: Int32) { self.descriptor = descriptor }

    /// A connected pair: the supervisor keeps the first; the second goes to the worker.
    public static func makePair() throws(SupervisorError) -> (WorkerLink, WorkerLink) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SupervisorError("cannot create a worker link: \(errnoText())")
        }
        return (WorkerLink(descriptor: fds[0]), WorkerLink(descriptor: fds[1]))
    }

    /// Sends one message; false if the other side is gone.
    @discardableResult
    public func send(_ message: LinkMessage) -> Bool {
        let line = Array((message.rawValue + "\n").utf8)
        let n = sendLine(descriptor, line)
        return n == line.count
    }

    /// Reads messages on a dedicated thread until end of file, then calls `onEnd` once. Unknown
    /// lines are ignored.
    public func startReading(_ onMessage: @escaping @Sendable (LinkMessage) -> Void, onEnd: @escaping @Sendable () -> Void) {
        let fd = descriptor
        Thread.detachNewThread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                pending += buffer[0..<n]
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeFirst(newline + 1)
                    if let message = LinkMessage(rawValue: line) { onMessage(message) }
                }
            }
            onEnd()
        }
    }

    /// Closes this end.
    public func close() { closeDescriptor(descriptor) }
}

private func sendLine(_ fd: Int32, _ bytes: [UInt8]) -> Int {
    bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
}
