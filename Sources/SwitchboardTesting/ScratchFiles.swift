import Foundation
import Synchronization

/// Paths for what tests write under the temporary directory (configs, fake homes, documents):
/// each is unique, and whatever is at it (a file or a directory) is removed when the test
/// process exits, so runs do not pile files up in `/tmp`.
///
/// ```swift
/// let config = ScratchFiles.path("switchboard", suffix: ".yaml")
/// try yaml.write(toFile: config, atomically: true, encoding: .utf8)
/// ```
public enum ScratchFiles {
    private static let made = Mutex<[String]>([])
    private static let removalAtExit: Void = { atexit { ScratchFiles.removeAll() } }()

    /// A new path, `<temporary directory>/<prefix>-<UUID><suffix>`, removed at exit.
    public static func path(_ prefix: String, suffix: String = "") -> String {
        _ = removalAtExit
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)\(suffix)"
        made.withLock { $0.append(path) }
        return path
    }

    /// Removes everything made so far (also run at exit).
    public static func removeAll() {
        let paths = made.withLock { all in
            defer { all.removeAll() }
            return all
        }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}
