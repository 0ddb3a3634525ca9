import ConfigSources

/// What asked for a reload.
enum ReloadTrigger: Sendable, Equatable, CustomStringConvertible {
    case sighup
    case fileChange
    case poll
    /// The current generation's secret manager values are due to be read again.
    case secretRefresh

    var description: String {
        switch self {
        case .sighup: "SIGHUP"
        case .fileChange: "config file change"
        case .poll: "config poll"
        case .secretRefresh: "secret refresh"
        }
    }

    /// Whether the reload reads every secret manager value again (else cached ones younger than
    /// their refresh interval are used): a SIGHUP and a due refresh do; a file change or a poll,
    /// which only say the config text may have changed, do not.
    var readsSecretsFresh: Bool { self == .sighup || self == .secretRefresh }
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
        fresh: Bool, validate: @Sendable (String, Bool) async throws(SupervisorError) -> ValidatedConfig
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
            return .loaded(try await validate(text, fresh), version: newVersion)
        } catch {
            return .failed("config error: \(error)", version: newVersion)
        }
    }

    /// Validates the running `text` again with every secret manager value read afresh.
    static func refresh(
        _ text: String, validate: @Sendable (String, Bool) async throws(SupervisorError) -> ValidatedConfig
    ) async -> ConfigLoad {
        do {
            return .loaded(try await validate(text, true), version: nil)
        } catch {
            return .failed("config error: \(error)", version: nil)
        }
    }
}
