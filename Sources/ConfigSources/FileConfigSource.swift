import Foundation

/// A config file on disk (`--config` or `CONFIG_FILE_PATH`).
public struct FileConfigSource: ConfigSource {
    public let path: String

    public init(path: String) { self.path = path }

    public var description: String { path }
    public var watchedPath: String? { path }

    public func fetch(ifChangedFrom version: String?) throws(ConfigSourceError) -> ConfigFetch {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigSourceError("cannot read config file \(path): no such file")
        }
        guard !isDirectory.boolValue else { throw ConfigSourceError("cannot read config file \(path): it is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigSourceError("cannot read config file \(path): permission denied")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigSourceError("config file \(path) is not UTF-8 text")
        }
        return .changed(text: text, version: nil)
    }
}
