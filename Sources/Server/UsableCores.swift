import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// How many event loops a worker should run.
public enum UsableCores {
    /// The CPUs this process may run on: the smaller of NIO's count (cgroup quota or online
    /// CPUs) and the scheduler affinity mask, so `taskset -c 0 switchboard` runs one loop
    /// instead of two threads fighting over one core.
    public static var count: Int {
        var cores = System.coreCount
        if let allowed = affinityCount(), allowed > 0 { cores = min(cores, allowed) }
        return max(1, cores)
    }

    /// CPUs in this process's affinity mask, from `Cpus_allowed` in `/proc/self/status`
    /// (`sched_getaffinity` is not exported to Swift by Glibc).
    static func affinityCount() -> Int? {
        #if os(Linux)
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            let mask = text.dropFirst("Cpus_allowed:".count)
            return mask.reduce(0) { sum, ch in sum + (ch.hexDigitValue?.nonzeroBitCount ?? 0) }
        }
        #endif
        return nil
    }
}
