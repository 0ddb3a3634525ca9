import NIOHTTP1
import OpenAIWire

/// Checks the master key (`general_settings.master_key`) on a request.
enum Auth {
    /// Where a key may come, in order of preference.
    static let keyHeaders = ["authorization", "api-key", "x-litellm-api-key"]

    /// The key the client presented: `Authorization: Bearer <k>`, `api-key: <k>` or
    /// `x-litellm-api-key: <k>` (a `Bearer ` prefix is accepted on all three).
    static func presentedKey(_ headers: HTTPHeaders) -> Substring? {
        for name in keyHeaders {
            guard let value = headers.first(name: name) else { continue }
            var v = Substring(value)
            if v.utf8.count >= 7, v.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 | 0x20 }) {
                v = v.dropFirst(7)
            }
            v = v.drop(while: { $0 == " " })
            if !v.isEmpty { return v }
        }
        return nil
    }

    /// `nil` when the request may pass, else the 401 to answer.
    static func check(_ headers: HTTPHeaders, masterKey: [UInt8]) -> OpenAIError? {
        guard let key = presentedKey(headers) else {
            return .unauthorized("Authentication Error, No api key passed in. Send it as 'Authorization: Bearer <key>'.")
        }
        if constantTimeEquals(key.utf8, masterKey) { return nil }
        return .unauthorized("Authentication Error, Invalid proxy server token passed. Received API key does not match the master key.")
    }

    /// Compares in time that depends only on the lengths, never on where bytes differ.
    static func constantTimeEquals<C: Collection>(_ a: C, _ b: [UInt8]) -> Bool where C.Element == UInt8 {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        var i = 0
        for byte in a {
            let other = b.isEmpty ? 0 : b[i % b.count]
            diff |= byte ^ other
            i += 1
        }
        return diff == 0 && a.count == b.count
    }
}
