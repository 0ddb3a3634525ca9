import Foundation

/// A real `redis-server` on a free loopback port, for tests: no persistence, stopped by its pid
/// (``stop()``, or when released). ``start()`` again restarts it on the same port.
///
/// ```swift
/// let redis = try RedisServer()
/// defer { redis.stop() }
/// let config = "router_settings: {redis_host: 127.0.0.1, redis_port: \(redis.port)}"
/// ```
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let password: String?
    /// More `redis-server` arguments (`--cluster-enabled yes`, `--tls-port ...`).
    public let extraArguments: [String]
    /// Arguments `redis-cli` needs besides the port (`--tls --cacert ...`).
    public let cliArguments: [String]
    private let lock = NSLock()
    private var process: Process?

    /// - Parameters:
    ///   - port: the plain TCP port (0 with `--tls-port` in `extraArguments`: TLS only; then
    ///     `listenPort` is the TLS port, waited for and used by ``cli(_:)``).
    public init(port: Int = freeLoopbackPort(), password: String? = nil, extraArguments: [String] = [], cliArguments: [String] = [], listenPort: Int? = nil) throws {
        self.port = listenPort ?? port
        self.plainPort = port
        self.password = password
        self.extraArguments = extraArguments
        self.cliArguments = cliArguments
        try start()
    }

    /// The `--port` given to the server (0: no plain TCP port).
    private let plainPort: Int

    /// The running server's pid (0 when stopped).
    public var pid: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return process?.processIdentifier ?? 0
    }

    /// Starts the server (if stopped) and waits until it accepts connections.
    public func start() throws {
        lock.lock()
        defer { lock.unlock() }
        guard process == nil else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.tool("redis-server"))
        var args = ["--port", String(plainPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--protected-mode", "no", "--loglevel", "warning"]
        if let password { args += ["--requirepass", password] }
        p.arguments = args + extraArguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        // A server that exited (its port taken) is not waited for.
        guard ProcessTable.wait(timeout: 10, until: { !p.isRunning || Self.accepts(port: port) }), p.isRunning else {
            throw RedisServerError(message: "redis-server did not listen on port \(port)\(p.isRunning ? "" : " (it exited)")")
        }
    }

    /// Kills the server by pid and waits until it is gone.
    public func stop() {
        lock.lock()
        let p = process
        process = nil
        lock.unlock()
        guard let p, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Runs one command with `redis-cli` and returns its output (trimmed).
    @discardableResult
    public func cli(_ args: String...) -> String {
        cli(arguments: args)
    }

    /// ``cli(_:)`` with the arguments in an array; a `redis-cli` still running after `timeout`
    /// seconds is killed (by its pid) and what it wrote so far returned.
    @discardableResult
    public func cli(arguments args: [String], timeout: Double = 30) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.tool("redis-cli"))
        var all = ["-p", String(port)] + cliArguments
        if let password { all += ["--no-auth-warning", "-a", password] }
        p.arguments = all + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return "" }
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `name` found on `PATH` (else under /usr/bin, for the error to name it).
    static func tool(_ name: String) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        return "/usr/bin/\(name)"
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    deinit { stop() }
}

/// `redis-server` could not be started.
public struct RedisServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
