import CloudAuth

/// `user:password` from the user-info of an `api_base` (`https://user:pa%40ss@host/v1`),
/// percent-decoded, sent upstream as `Authorization: Basic base64(user:password)` the way an
/// HTTP client sends a URL's credentials (RFC 7617).
public struct BasicCredentials: Sendable, Equatable {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// Parses the user-info part of a URL (before `@`): `user`, `user:password`, percent-encoded.
    init(userInfo: Substring) {
        if let colon = userInfo.firstIndex(of: ":") {
            user = Self.percentDecoded(userInfo[..<colon])
            password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
        } else {
            user = Self.percentDecoded(userInfo)
            password = ""
        }
    }

    /// The `Authorization` header value: `Basic <base64 of user:password in UTF-8>`.
    public var authorization: String {
        "Basic " + Self.base64(Array((user + ":" + password).utf8))
    }

    /// `%XX` sequences decoded as UTF-8 bytes; a `%` not followed by two hex digits stays as it is.
    static func percentDecoded(_ text: Substring) -> String { URLEncoding.decode(text) }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding.
    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
