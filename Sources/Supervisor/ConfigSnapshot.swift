#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exact config text a generation was validated with, in an unlinked temporary file whose
/// descriptor every worker of that generation inherits. Workers never re-read `config.yaml`
/// itself, so an edit between validation and a worker's start (or a crash restart hours later)
/// cannot give a worker a config the supervisor did not check.
///
/// ```swift
/// let snapshot = try ConfigSnapshot(text: yaml)    // supervisor
/// let text = try ConfigSnapshot.read(descriptor: 5) // worker
/// ```
public final class ConfigSnapshot: Sendable {
    /// The text, as validated.
    public let text: String
    /// Close-on-exec descriptor of the unlinked file.
    public let descriptor: Int32

    /// Writes `text` to a new unlinked file in `$TMPDIR` (or `/tmp`).
    public init(text: String, directory: String = "/tmp") throws(SupervisorError) {
        self.text = text
        var template = Array((directory + "/switchboard-config-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw SupervisorError("cannot create a config snapshot in \(directory): \(errnoText())") }
        // Spawns happen on the supervisor's one event loop, like this, so none can slip in before
        // close-on-exec is set.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let bytes = Array(text.utf8)
        try writeWhole(bytes, to: fd, what: "config snapshot")
        descriptor = fd
    }

    deinit { closeDescriptor(descriptor) }

    /// Reads a snapshot through an inherited descriptor (with `pread`, so workers sharing the
    /// open file never disturb each other's offset).
    public static func read(descriptor: Int32) throws(SupervisorError) -> String {
        let bytes = try readWhole(descriptor: descriptor, what: "config snapshot")
        return String(decoding: bytes, as: UTF8.self)
    }
}
