import Foundation

/// The shared AWS files: `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`) and
/// `~/.aws/config` (`AWS_CONFIG_FILE`), and the profile chosen by `AWS_PROFILE` (else
/// `AWS_DEFAULT_PROFILE`, else `default`).
public struct AWSSharedFiles: Sendable {
    public var credentialsPath: String?
    public var configPath: String?
    public var profile: String
    /// Whether the profile was named in the environment (a missing named profile is an error).
    public var profileIsExplicit: Bool

    public init(environment: [String: String]) {
        let home = environment.nonEmpty("HOME")
        credentialsPath = environment.nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? home.map { $0 + "/.aws/credentials" }
        configPath = environment.nonEmpty("AWS_CONFIG_FILE") ?? home.map { $0 + "/.aws/config" }
        let named = environment.nonEmpty("AWS_PROFILE") ?? environment.nonEmpty("AWS_DEFAULT_PROFILE")
        profile = named ?? "default"
        profileIsExplicit = named != nil
    }

    /// The profile's keys in the credentials file (`[name]`), nil when the file does not exist.
    func credentialsSection() throws(CloudAuthError) -> [String: String]? {
        guard let credentialsPath, let text = try Self.read(credentialsPath) else { return nil }
        return INIFile(text).sections[profile]
    }

    /// The profile's keys in the config file (`[default]` or `[profile name]`).
    func configSection() throws(CloudAuthError) -> [String: String]? {
        guard let configPath, let text = try Self.read(configPath) else { return nil }
        let sections = INIFile(text).sections
        return sections["profile " + profile] ?? (profile == "default" ? sections["default"] : nil)
    }

    /// The file's text; nil when it does not exist.
    static func read(_ path: String) throws(CloudAuthError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw CloudAuthError("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// An INI file as the AWS CLI writes them: `[section]` headers, `key = value` lines, `#` and
/// `;` comments; keys lower-cased. Indented continuation lines (nested settings) are skipped.
struct INIFile {
    var sections: [String: [String: String]] = [:]

    init(_ text: String) {
        var current: String?
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if raw.first == " " || raw.first == "\t" { continue }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            sections[current]?[key] = value
        }
    }
}

/// Long-term or session keys from the shared credentials file (and, as the CLI allows, from the
/// profile in the config file).
public struct AWSSharedCredentialsFile: AWSCredentialSource {
    let files: AWSSharedFiles

    public init(environment: [String: String]) { files = AWSSharedFiles(environment: environment) }

    public var name: String { "shared credentials file" }

    public func resolve() throws(CloudAuthError) -> AWSCredentials? {
        let sections = [try files.credentialsSection(), try files.configSection()].compactMap { $0 }
        for section in sections {
            let id = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
            let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
            if id == nil && secret == nil { continue }
            guard let id, let secret else {
                throw CloudAuthError("shared credentials file: profile '\(files.profile)' sets only one of aws_access_key_id and aws_secret_access_key")
            }
            let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
        }
        if files.profileIsExplicit {
            throw CloudAuthError("shared credentials file: profile '\(files.profile)' (AWS_PROFILE) has no aws_access_key_id/aws_secret_access_key in \(files.credentialsPath ?? "~/.aws/credentials") or \(files.configPath ?? "~/.aws/config")")
        }
        return nil
    }
}

/// The AWS region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region` in the
/// shared config file.
public enum AWSRegion {
    public static func resolve(environment: [String: String]) -> String? {
        if let region = environment.nonEmpty("AWS_REGION") ?? environment.nonEmpty("AWS_DEFAULT_REGION") { return region }
        return (try? AWSSharedFiles(environment: environment).configSection())??["region"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// An endpoint override for a service: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `S3`, `STS`,
    /// `BEDROCK_RUNTIME`), else `AWS_ENDPOINT_URL`; with the variable it came from.
    public static func endpointOverride(service: String, environment: [String: String]) -> (value: String, variable: String)? {
        for name in ["AWS_ENDPOINT_URL_" + service, "AWS_ENDPOINT_URL"] {
            if let value = environment.nonEmpty(name) { return (value, name) }
        }
        return nil
    }
}
