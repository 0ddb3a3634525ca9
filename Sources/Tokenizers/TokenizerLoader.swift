import Crypto
import Foundation

/// Loads tokenizers from their files: a local path, the on-disk cache, or a download (fetched
/// once, written to the cache atomically, so the next start — or another worker — reads it from
/// disk). The HTTP GET is given by the caller (`fetch`), so this target needs no network stack.
public struct TokenizerLoader: Sendable {
    /// An HTTP GET: URL and extra headers → status and body. Throws on a transport failure.
    public typealias Fetch = @Sendable (_ url: String, _ headers: [(String, String)]) async throws -> (status: Int, body: [UInt8])

    public let settings: TokenizerSettings
    let fetch: Fetch

    public init(settings: TokenizerSettings, fetch: @escaping Fetch) {
        self.settings = settings
        self.fetch = fetch
    }

    /// A Hugging Face tokenizer: `localPath` (a `tokenizer.json`, or a directory holding one), else
    /// `{hub}/{identifier}/resolve/{revision}/tokenizer.json` through the cache.
    public func huggingFace(identifier: String, revision: String, authToken: String?, localPath: String?) async throws(TokenizerError) -> HuggingFaceTokenizer {
        if let localPath {
            var path = localPath
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                path += "/tokenizer.json"
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TokenizerError("custom_tokenizer \(identifier): cannot read \(path)")
            }
            return try HuggingFaceTokenizer(json: data, source: path)
        }
        let cached = "\(settings.cacheDirectory)/huggingface/\(Self.safeName(identifier))/\(Self.safeName(revision))/tokenizer.json"
        // The revision is one path segment (`refs/pr/1` → `refs%2Fpr%2F1`), as huggingface_hub sends it.
        let url = "\(settings.hubEndpoint)/\(identifier)/resolve/\(revision.replacingOccurrences(of: "/", with: "%2F"))/tokenizer.json"
        let bytes = try await cachedOrFetched(cached, url: url, headers: authToken.map { [("Authorization", "Bearer \($0)")] } ?? [],
                                              what: "custom_tokenizer \(identifier)")
        return try HuggingFaceTokenizer(json: Data(bytes), source: "\(identifier)@\(revision) tokenizer.json")
    }

    /// A tiktoken encoding: `SWITCHBOARD_TIKTOKEN_DIR/{name}.tiktoken` when that directory is set,
    /// else tiktoken's own cache (`TIKTOKEN_CACHE_DIR`) when it has the file, else our cache, else
    /// fetched from `SWITCHBOARD_TIKTOKEN_BASE_URL/{name}.tiktoken`.
    public func tiktoken(_ encoding: OpenAIEncodingName) async throws(TokenizerError) -> TiktokenEncoding {
        let bytes: [UInt8]
        if let directory = settings.tiktokenDirectory {
            let path = "\(directory)/\(encoding.rawValue).tiktoken"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TokenizerError("\(encoding.rawValue): cannot read \(path) (SWITCHBOARD_TIKTOKEN_DIR)")
            }
            bytes = [UInt8](data)
        } else if let directory = settings.tiktokenCacheDirectory,
                  let data = FileManager.default.contents(atPath: "\(directory)/\(Self.tiktokenCacheKey(encoding.url))") {
            bytes = [UInt8](data)
        } else {
            bytes = try await cachedOrFetched(
                "\(settings.cacheDirectory)/tiktoken/\(encoding.rawValue).tiktoken",
                url: "\(settings.tiktokenBaseURL)/\(encoding.rawValue).tiktoken", headers: [], what: encoding.rawValue)
        }
        return try TiktokenEncoding(name: encoding.rawValue, rankFile: bytes, pattern: encoding.pattern)
    }

    /// The file at `path`, else the body of `url` (then written to `path`).
    func cachedOrFetched(_ path: String, url: String, headers: [(String, String)], what: String) async throws(TokenizerError) -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path) { return [UInt8](data) }
        let status: Int
        let body: [UInt8]
        do {
            (status, body) = try await fetch(url, headers)
        } catch {
            throw TokenizerError("\(what): cannot fetch \(url): \(error)")
        }
        guard status == 200 else {
            let hint = status == 401 || status == 403 ? " (a gated or private repo needs custom_tokenizer.auth_token)" : ""
            throw TokenizerError("\(what): cannot fetch \(url): HTTP \(status)\(hint)")
        }
        Self.writeAtomically(body, to: path)
        return body
    }

    /// Writes to a temporary file beside `path` and renames it, so a reader never sees half a
    /// file. A cache that cannot be written is not an error: the next start fetches again.
    static func writeAtomically(_ bytes: [UInt8], to path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, path) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
        }
    }

    /// tiktoken's cache file name: the hex SHA-1 of the URL.
    static func tiktokenCacheKey(_ url: String) -> String {
        Insecure.SHA1.hash(data: Array(url.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A path component from a repo id or revision (`/` → `--`, as the hub's own cache does).
    static func safeName(_ s: String) -> String {
        s.replacingOccurrences(of: "/", with: "--").replacingOccurrences(of: "..", with: "_")
    }
}
