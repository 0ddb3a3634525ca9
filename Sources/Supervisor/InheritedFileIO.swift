#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes all of `bytes` to the new file `fd` a generation hands to its workers; on failure closes
/// `fd` and throws "cannot write the `what`: reason".
func writeWhole(_ bytes: [UInt8], to fd: Int32, what: String) throws(SupervisorError) {
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else {
            let reason = errnoText()
            closeDescriptor(fd)
            throw SupervisorError("cannot write the \(what): \(reason)")
        }
        written += n
    }
}

/// Reads a file through an inherited descriptor from its start to its end, with `pread`: workers
/// sharing the open file never disturb each other's offset.
func readWhole(descriptor: Int32, what: String) throws(SupervisorError) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(bytes.count)) }
        if n == 0 { break }
        guard n > 0 else { throw SupervisorError("cannot read the \(what) (descriptor \(descriptor)): \(errnoText())") }
        bytes += buffer[0..<n]
    }
    return bytes
}
