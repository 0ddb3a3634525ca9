/// Where the gateway's `config.yaml` text comes from: a file, an S3 object or a GCS object.
/// The supervisor fetches it at start, on SIGHUP, when the file watch or the poll interval sees
/// a change; workers never fetch (they get the validated snapshot).
///
/// ```swift
/// let source = try ConfigSourceSelection(configOption: nil, environment: env).source!
/// if case .changed(let text, let version) = try await source.fetch(ifChangedFrom: nil) { … }
/// ```
public protocol ConfigSource: Sendable, CustomStringConvertible {
    /// The file to watch with `stat` (file sources); nil for remote sources, which are polled.
    var watchedPath: String? { get }

    /// Fetches the text. With `version` (what an earlier fetch returned), a source that can ask
    /// conditionally (ETag, generation) answers ``ConfigFetch/unchanged`` when the object is the
    /// same. Throws one line naming the object and why.
    func fetch(ifChangedFrom version: String?) async throws(ConfigSourceError) -> ConfigFetch
}

/// The result of a fetch.
public enum ConfigFetch: Sendable, Equatable {
    /// The text, and the version it had (ETag, generation; nil for files).
    case changed(text: String, version: String?)
    /// The object has the version given.
    case unchanged
}

/// Why a config could not be fetched: one line, no secrets.
public struct ConfigSourceError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// The largest config object fetched (a config.yaml is kilobytes; this guards against a wrong key).
let maximumConfigBytes = 16 << 20

/// The text as UTF-8, or an error naming the object.
func utf8Text(_ bytes: [UInt8], object: String) throws(ConfigSourceError) -> String {
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ConfigSourceError("cannot read \(object): it is not UTF-8 text")
    }
    return text
}
