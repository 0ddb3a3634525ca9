import _CryptoExtras
import Crypto
import Foundation
import OpenAIWire

/// A service account key: its e-mail, RSA private key and token endpoint. Makes the signed
/// RS256 JWT of the OAuth 2.0 JWT bearer grant (RFC 7523) Google's token endpoint exchanges for
/// an access token.
public struct GoogleServiceAccountKey: Sendable {
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    public let clientEmail: String
    public let privateKeyID: String?
    public let tokenURI: String
    let privateKey: _RSA.Signing.PrivateKey

    public init(clientEmail: String, privateKeyPEM: String, privateKeyID: String?, tokenURI: String, path: String = "the key") throws(CloudAuthError) {
        do {
            privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw CloudAuthError("Google credentials: \(path) private_key is not an RSA private key in PEM")
        }
        self.clientEmail = clientEmail
        self.privateKeyID = privateKeyID
        self.tokenURI = tokenURI
    }

    /// `header.claims.signature` for `scopes`, valid for an hour from `now`.
    public func assertion(scopes: [String], now: Date = Date()) throws(CloudAuthError) -> String {
        var header: [JSONMember] = [.init("alg", .string("RS256")), .init("typ", .string("JWT"))]
        if let privateKeyID { header.append(.init("kid", .string(privateKeyID))) }
        let issued = Int(now.timeIntervalSince1970)
        let claims: [JSONMember] = [
            .init("iss", .string(clientEmail)), .init("scope", .string(scopes.joined(separator: " "))),
            .init("aud", .string(tokenURI)), .init("iat", .int(issued)), .init("exp", .int(issued + 3600)),
        ]
        let input = Base64URL.encode(Array(JSONValue.object(header).jsonText.utf8)) + "."
            + Base64URL.encode(Array(JSONValue.object(claims).jsonText.utf8))
        do {
            let signature = try privateKey.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)
            return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
        } catch {
            throw CloudAuthError("Google credentials: cannot sign the token request with the service account key")
        }
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs use it.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var base = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base.utf8.count % 4 != 0 { base.append("=") }
        return Data(base64Encoded: base).map(Array.init)
    }
}
