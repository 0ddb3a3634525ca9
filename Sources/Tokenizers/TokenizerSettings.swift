/// Where tokenizer files come from and where they are kept, from the environment.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `SWITCHBOARD_TOKENIZER_CACHE_DIR` | `$XDG_CACHE_HOME/switchboard/tokenizers`, else `$HOME/.cache/switchboard/tokenizers` | downloaded `tokenizer.json` and rank files |
/// | `SWITCHBOARD_TIKTOKEN_DIR` | — | a directory holding `o200k_base.tiktoken`, `cl100k_base.tiktoken`, …; used as is, never fetched into |
/// | `TIKTOKEN_CACHE_DIR` | — | tiktoken's own cache (files named by the SHA-1 of the rank file's standard URL), read when present: a cache filled by tiktoken or LiteLLM serves as is |
/// | `SWITCHBOARD_TIKTOKEN_BASE_URL` | `https://openaipublic.blob.core.windows.net/encodings` | where rank files are fetched from |
/// | `HF_ENDPOINT` | `https://huggingface.co` | the Hugging Face hub |
public struct TokenizerSettings: Sendable, Equatable {
    public var cacheDirectory: String
    public var tiktokenDirectory: String?
    /// tiktoken's `TIKTOKEN_CACHE_DIR`.
    public var tiktokenCacheDirectory: String?
    public var tiktokenBaseURL: String
    public var hubEndpoint: String

    public init(cacheDirectory: String, tiktokenDirectory: String? = nil, tiktokenCacheDirectory: String? = nil,
                tiktokenBaseURL: String = "https://openaipublic.blob.core.windows.net/encodings",
                hubEndpoint: String = "https://huggingface.co") {
        self.cacheDirectory = cacheDirectory
        self.tiktokenDirectory = tiktokenDirectory
        self.tiktokenCacheDirectory = tiktokenCacheDirectory
        self.tiktokenBaseURL = Self.trimmed(tiktokenBaseURL)
        self.hubEndpoint = Self.trimmed(hubEndpoint)
    }

    public init(environment: [String: String]) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let cache = value("SWITCHBOARD_TOKENIZER_CACHE_DIR")
            ?? value("XDG_CACHE_HOME").map { $0 + "/switchboard/tokenizers" }
            ?? value("HOME").map { $0 + "/.cache/switchboard/tokenizers" }
            ?? "/tmp/switchboard-tokenizers"
        self.init(
            cacheDirectory: cache, tiktokenDirectory: value("SWITCHBOARD_TIKTOKEN_DIR"), tiktokenCacheDirectory: value("TIKTOKEN_CACHE_DIR"),
            tiktokenBaseURL: value("SWITCHBOARD_TIKTOKEN_BASE_URL") ?? "https://openaipublic.blob.core.windows.net/encodings",
            hubEndpoint: value("HF_ENDPOINT") ?? "https://huggingface.co")
    }

    private static func trimmed(_ url: String) -> String {
        var u = Substring(url)
        while u.hasSuffix("/") { u = u.dropLast() }
        return String(u)
    }
}
