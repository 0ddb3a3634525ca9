import NIOHTTP1
import SwitchboardConfig

/// Pieces every provider's plan shares.
enum PlanHeaders {
    /// Adds a deployment's `extra_headers` (replacing same-named ones); an unusable header is left
    /// out with a warning to log once.
    static func addExtraHeaders(_ params: LitellmParams, to headers: inout HTTPHeaders, warnings: inout [String]) {
        for (name, value) in params.extraHeaders {
            guard HeaderValidation.isValidName(name), HeaderValidation.isValidValue(value) else {
                warnings.append("extra_headers '\(name)' is not a valid HTTP header (names are letters, digits and !#$%&'*+-.^_`|~ without spaces); it is not sent")
                continue
            }
            headers.replaceOrAdd(name: name, value: value)
        }
    }

    /// The api_base shown to clients (`x-litellm-model-api-base`): scheme, host and `path`, no credentials.
    static func shownBase(_ target: UpstreamTarget, path: String) -> String {
        "\(target.tls ? "https" : "http")://\(target.hostHeader)\(path)"
    }
}
