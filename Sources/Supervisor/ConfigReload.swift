import ConfigSources

/// What asked for a reload.
enum ReloadTrigger: Sendable, Equatable, CustomStringConvertible {
    case sighup
    case fileChange
    case poll

    var description: String {
        switch self {
        case .sighup: "SIGHUP"
        case .fileChange: "config file change"
        case .poll: "config poll"
        }
    }
}

/// The outcome of fetching and validating the config for a reload.
enum ConfigLoad: Sendable {
    /// Fetched and valid; `version` is the object's (ETag, generation; nil for files).
    case loaded(ValidatedConfig, version: String?)
    /// The source says the object has the version asked about.
    case unchanged
    /// The fetch or the validation failed (one line); `version` of the object when it was fetched.
    case failed(String, version: String?)

    /// Fetches from `source` (conditionally when `version` is given) and validates the text.
    static func load(
        from source: any ConfigSource, ifChangedFrom version: String?,
        validate: @Sendable (String) async throws(SupervisorError) -> ValidatedConfig
    ) async -> ConfigLoad {
        let text: String
        let newVersion: String?
        do {
            switch try await source.fetch(ifChangedFrom: version) {
            case .unchanged: return .unchanged
            case .changed(let t, let v): (text, newVersion) = (t, v)
            }
        } catch {
            return .failed(error.description, version: nil)
        }
        do {
            return .loaded(try await validate(text), version: newVersion)
        } catch {
            return .failed("config error: \(error)", version: newVersion)
        }
    }
}
