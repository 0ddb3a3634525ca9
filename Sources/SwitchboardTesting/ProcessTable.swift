import Foundation

/// Reads Linux's `/proc` to find a process's children and whether a process still runs, so
/// supervisor tests can check workers were replaced and that no orphans remain.
public enum ProcessTable {
    /// Live (not zombie) processes whose parent is `parent`.
    public static func children(of parent: Int32) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = stat(pid) else { return false }
            return stat.parent == parent && stat.state != "Z"
        }.sorted()
    }

    /// Whether `pid` exists and is not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = stat(pid) else { return false }
        return stat.state != "Z" && stat.state != "X"
    }

    /// State letter and parent from `/proc/PID/stat` (the command may contain spaces and
    /// parentheses, so fields are read after the last `)`).
    static func stat(_ pid: Int32) -> (state: Character, parent: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        return (state, parent)
    }

    /// Waits until `condition` holds (polling every 20 ms) or `timeout` passes; returns whether it held.
    public static func wait(timeout: TimeInterval, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}
