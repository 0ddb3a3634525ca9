import CloudAuth
import NIOCore

/// A config object in Google Cloud Storage, downloaded with the JSON API
/// (`GET /storage/v1/b/<bucket>/o/<object>?alt=media`) and an OAuth token from application
/// default credentials (``GoogleAccessTokenSource``, scope `devstorage.read_only`).
/// `STORAGE_EMULATOR_HOST` (`host:port` or a URL) replaces `https://storage.googleapis.com`; with
/// it and no credentials configured the request is anonymous, as Google's clients do for
/// emulators. Conditional on the object's generation (`ifGenerationNotMatch`).
public struct GCSConfigSource: ConfigSource {
    public let bucket: String
    public let object: String
    /// The base URL of the JSON API.
    public let apiBase: String
    let tokens: GoogleAccessTokenSource?
    let fetcher: HTTPFetcher

    public init(bucket: String, object: String, environment: [String: String], tokens: GoogleAccessTokenSource? = nil,
                fetcher: HTTPFetcher = HTTPFetcher(timeout: .seconds(30))) throws(ConfigSourceError) {
        self.bucket = bucket
        self.object = object
        var base = "https://storage.googleapis.com"
        let emulator = environment["STORAGE_EMULATOR_HOST"].flatMap { $0.isEmpty ? nil : $0 }
        if let emulator {
            base = emulator.hasPrefix("http://") || emulator.hasPrefix("https://") ? emulator : "http://" + emulator
            while base.hasSuffix("/") { base.removeLast() }
        }
        apiBase = base
        self.fetcher = fetcher.withMaximumBody(maximumConfigBytes)
        if let tokens {
            self.tokens = tokens
        } else if emulator != nil && environment["GOOGLE_APPLICATION_CREDENTIALS"].flatMap({ $0.isEmpty ? nil : $0 }) == nil
                    && environment["GCE_METADATA_HOST"].flatMap({ $0.isEmpty ? nil : $0 }) == nil {
            self.tokens = nil
        } else {
            do {
                self.tokens = try GoogleAccessTokenSource(environment: environment, scopes: [GoogleAccessTokenSource.storageReadScope],
                                                          fetcher: fetcher.with(timeout: .seconds(10)))
            } catch {
                throw ConfigSourceError("cannot fetch \(Self.describe(bucket, object)): \(error)")
            }
        }
    }

    public var description: String { Self.describe(bucket, object) }
    public var watchedPath: String? { nil }

    static func describe(_ bucket: String, _ object: String) -> String { "gs://\(bucket)/\(object)" }

    /// The media download URL.
    public var mediaURL: String {
        apiBase + "/storage/v1/b/" + URLEncoding.encode(bucket) + "/o/" + URLEncoding.encode(object) + "?alt=media"
    }

    public func fetch(ifChangedFrom version: String?) async throws(ConfigSourceError) -> ConfigFetch {
        var headers: [(name: String, value: String)] = []
        if let tokens {
            do {
                headers.append(("Authorization", "Bearer " + (try await tokens.accessToken())))
            } catch {
                throw ConfigSourceError("cannot fetch \(description): \(error)")
            }
        }
        var url = mediaURL
        if let version { url += "&ifGenerationNotMatch=" + URLEncoding.encode(version) }
        let answer: HTTPFetchResponse
        do {
            answer = try await fetcher.get(url, headers: headers)
        } catch {
            throw ConfigSourceError("cannot fetch \(description): \(error)")
        }
        if answer.status == 304 { return .unchanged }
        guard answer.isSuccess else {
            if answer.status == 401 { await tokens?.invalidate() }
            throw ConfigSourceError("cannot fetch \(description): Cloud Storage answered \(answer.status)\(Self.errorMessage(answer.text))")
        }
        return .changed(text: try utf8Text(answer.bytes, object: description), version: answer.header("x-goog-generation"))
    }

    static func errorMessage(_ body: String) -> String {
        guard let message = (try? JSONValue.parse(body))?["error"]?["message"]?.stringValue else { return "" }
        return ": " + message
    }
}

import OpenAIWire
