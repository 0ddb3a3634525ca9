#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The secret values a generation's workers need (read once by the supervisor from the config's
/// secret manager), in an anonymous memory file every worker of that generation inherits as
/// descriptor 7. Never a file on disk: on Linux a `memfd` (sealed against any change once
/// written), elsewhere POSIX shared memory unlinked at once. N workers thus never fetch N times,
/// and no secret is ever in an argument, the environment or a file.
///
/// ```swift
/// let handoff = try SecretHandoff(bytes: secrets.encoded())     // supervisor
/// let bytes = try SecretHandoff.read(descriptor: 7)              // worker
/// ```
public final class SecretHandoff: Sendable {
    /// The descriptor number workers receive it as.
    public static let workerDescriptor: Int32 = 7

    /// Close-on-exec descriptor of the memory file.
    public let descriptor: Int32

    public init(bytes: [UInt8]) throws(SupervisorError) {
        let fd = try Self.anonymousMemoryFile()
        try writeWhole(bytes, to: fd, what: "secret hand-off")
        #if os(Linux)
        // F_ADD_SEALS with F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: no worker can
        // change what the others read.
        _ = fcntl(fd, 1033, Int32(1 | 2 | 4 | 8))
        #endif
        descriptor = fd
    }

    deinit { closeDescriptor(descriptor) }

    /// Reads the hand-off through an inherited descriptor (with `pread`: workers share the open file).
    public static func read(descriptor: Int32) throws(SupervisorError) -> [UInt8] {
        try readWhole(descriptor: descriptor, what: "secret hand-off")
    }

    private static func anonymousMemoryFile() throws(SupervisorError) -> Int32 {
        #if os(Linux)
        // memfd_create is in glibc (2.27+) but not in Swift's Glibc module (it needs _GNU_SOURCE).
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else {
            throw SupervisorError("cannot hand secrets to workers: this C library has no memfd_create")
        }
        let memfdCreate = unsafeBitCast(symbol, to: MemfdCreate.self)
        let fd = memfdCreate("switchboard-secrets", 1 | 2)  // MFD_CLOEXEC | MFD_ALLOW_SEALING
        guard fd >= 0 else { throw SupervisorError("cannot create the secret hand-off (memfd_create): \(errnoText())") }
        return fd
        #else
        let name = "/switchboard-secrets-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SupervisorError("cannot create the secret hand-off (shm_open): \(errnoText())") }
        shm_unlink(name)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
        #endif
    }
}
