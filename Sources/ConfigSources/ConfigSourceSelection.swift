/// Which ``ConfigSource`` the environment asks for, as LiteLLM decides it:
/// `LITELLM_CONFIG_BUCKET_NAME` set → a bucket object (`LITELLM_CONFIG_BUCKET_OBJECT_KEY`), in
/// GCS when `LITELLM_CONFIG_BUCKET_TYPE=gcs`, else S3 (`s3` or unset); otherwise `--config`,
/// else `CONFIG_FILE_PATH`, else none (the built-in demo config).
public struct ConfigSourceSelection: Sendable {
    /// nil: no config named (serve the demo).
    public let source: (any ConfigSource)?
    /// Things to log once (a `--config` a bucket overrides).
    public let warnings: [String]

    public init(configOption: String?, environment: [String: String]) throws(ConfigSourceError) {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        let type = value("LITELLM_CONFIG_BUCKET_TYPE")?.lowercased()
        guard let bucket = value("LITELLM_CONFIG_BUCKET_NAME") else {
            if type != nil { throw ConfigSourceError("LITELLM_CONFIG_BUCKET_TYPE is set but LITELLM_CONFIG_BUCKET_NAME is not; set the bucket name (and LITELLM_CONFIG_BUCKET_OBJECT_KEY) or unset the type") }
            warnings = []
            source = (configOption ?? value("CONFIG_FILE_PATH")).map { FileConfigSource(path: $0) }
            return
        }
        guard let key = value("LITELLM_CONFIG_BUCKET_OBJECT_KEY") else {
            throw ConfigSourceError("LITELLM_CONFIG_BUCKET_NAME is set but LITELLM_CONFIG_BUCKET_OBJECT_KEY is not; set the object key of the config")
        }
        let bucketSource: any ConfigSource
        switch type {
        case nil, "s3":
            bucketSource = S3ConfigSource(bucket: bucket, key: key, environment: environment)
        case "gcs":
            bucketSource = try GCSConfigSource(bucket: bucket, object: key, environment: environment)
        case let other?:
            throw ConfigSourceError("LITELLM_CONFIG_BUCKET_TYPE must be s3 or gcs, got '\(other)'")
        }
        source = bucketSource
        if let configOption {
            warnings = ["--config \(configOption) is ignored: LITELLM_CONFIG_BUCKET_NAME is set, so the config is read from \(bucketSource.description)"]
        } else {
            warnings = []
        }
    }
}

import Foundation
