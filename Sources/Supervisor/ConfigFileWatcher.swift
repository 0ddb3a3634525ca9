#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Notices when the config file changes on disk: in place, replaced by rename, or behind a
/// swapped symlink (Kubernetes ConfigMap volumes swap a `..data` symlink). It compares what
/// `stat` (which follows symlinks) reports about the file every `interval`; polling a single
/// `stat` costs nothing and, unlike inotify on one inode, survives every way of replacing a file.
/// The supervisor then compares the text itself, so a touched but unchanged file reloads nothing.
///
/// ```swift
/// let watcher = ConfigFileWatcher(path: "config.yaml", interval: .seconds(2)) { reload() }
/// ```
public final class ConfigFileWatcher: Sendable {
    private let task: Task<Void, Never>

    /// Starts polling; `changed` runs each time the file's identity, size or time stamps differ
    /// from the previous poll.
    public init(path: String, interval: Duration, changed: @escaping @Sendable () -> Void) {
        task = Task {
            var last = Self.signature(path)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let now = Self.signature(path)
                if now != last {
                    last = now
                    changed()
                }
            }
        }
    }

    deinit { task.cancel() }

    /// Stops watching.
    public func stop() { task.cancel() }

    /// Device, inode, size, modification and change times; nil when the file cannot be stat'ed.
    static func signature(_ path: String) -> [Int]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int(info.st_dev), Int(info.st_ino), Int(info.st_size),
                Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec),
                Int(info.st_ctim.tv_sec), Int(info.st_ctim.tv_nsec)]
    }
}
