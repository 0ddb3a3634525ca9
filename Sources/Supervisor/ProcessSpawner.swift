#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts a child process with `posix_spawn`, handing it chosen file descriptors at fixed numbers.
///
/// `Foundation.Process` cannot pass extra descriptors, and `fork` without `exec` is unsafe in a
/// multi-threaded process; `posix_spawn` does neither. Every descriptor the supervisor opens is
/// close-on-exec, so a child receives exactly the ones listed in `descriptors`.
///
/// ```swift
/// let pid = try ProcessSpawner.spawn(
///     executable: "/proc/self/exe", arguments: ["switchboard", "worker", "--listen_fd", "3"],
///     environment: ["PATH=/usr/bin"], descriptors: [(listener, 3)])
/// ```
public enum ProcessSpawner {
    /// The path that runs this very binary again (`/proc/self/exe` on Linux).
    public static var ownExecutable: String {
        #if os(Linux)
        return "/proc/self/exe"
        #else
        return CommandLine.arguments[0]
        #endif
    }

    /// Spawns `executable` with `arguments` (the first is the child's `argv[0]`) and `environment`
    /// (`NAME=value` strings). Each `(source, target)` pair in `descriptors` appears in the child as
    /// descriptor `target`; targets must be at least 3 and below 64. Signals the parent ignores or
    /// handles are reset to their defaults in the child (SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGPIPE)
    /// and its signal mask is empty.
    public static func spawn(
        executable: String, arguments: [String], environment: [String], descriptors: [(source: Int32, target: Int32)]
    ) throws(SupervisorError) -> pid_t {
        // Move every source above the target range first, so a source that happens to carry a
        // target's number is neither overwritten nor left with its close-on-exec flag.
        var moved: [(Int32, Int32)] = []
        defer { for (fd, _) in moved { close(fd) } }
        for (source, target) in descriptors {
            precondition(target >= 3 && target < 64, "descriptor targets are 3..<64")
            let high = fcntl(source, F_DUPFD_CLOEXEC, 64)
            guard high >= 0 else { throw SupervisorError("cannot duplicate descriptor \(source): \(errnoText())") }
            moved.append((high, target))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (high, target) in moved {
            // dup2 clears close-on-exec on the target, so the child keeps it.
            posix_spawn_file_actions_adddup2(&actions, high, target)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGHUP, SIGINT, SIGTERM, SIGCHLD, SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SupervisorError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        return pid
    }
}

/// A failure of the supervisor's own system calls, with the reason spelled out.
public struct SupervisorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// `close(2)`, callable where a method named `close` shadows it.
func closeDescriptor(_ fd: Int32) { _ = close(fd) }
