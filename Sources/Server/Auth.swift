import NIOHTTP1
import OpenAIWire

/// Checks the master key (`general_settings.master_key`) on a request.
enum Auth {
    /// Where a key may come. Every one present is tried: a client may send another credential in
    /// one of them (`Authorization: Basic …` for a proxy in front) and the key in another.
    static let keyHeaders = ["authorization", "api-key", "x-litellm-api-key"]

    /// The key in one header's value: `Bearer <k>` or `<k>` (a `Bearer ` prefix is accepted on all
    /// three headers); `nil` when empty.
    static func key(in value: String) -> Substring? {
        var v = Substring(value)
        if v.utf8.count >= 7, v.utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 | 0x20 }) {
            v = v.dropFirst(7)
        }
        v = v.drop(while: { $0 == " " })
        return v.isEmpty ? nil : v
    }

    /// `nil` when the request may pass (any of the three headers holds the master key), else the
    /// 401 to answer. Allocates nothing.
    static func check(_ headers: HTTPHeaders, masterKey: [UInt8]) -> OpenAIError? {
        var presented = false
        for name in keyHeaders {
            guard let value = headers.first(name: name), let key = key(in: value) else { continue }
            presented = true
            if constantTimeEquals(key.utf8, masterKey) { return nil }
        }
        guard presented else {
            return .unauthorized("Authentication Error, No api key passed in. Send it as 'Authorization: Bearer <key>'.")
        }
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
