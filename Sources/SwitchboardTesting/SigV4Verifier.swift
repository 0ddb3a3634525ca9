import Crypto

/// Checks an AWS Signature V4 `authorization` header the way the service does, written from the
/// specification for the fakes: it shares nothing with the signer under test (`CloudAuth.AWSSigV4`)
/// beyond SHA-256 and HMAC. It rebuilds the canonical request from what arrived on the wire
/// (method, path, query, the headers named in `SignedHeaders`, the body's hash), derives the
/// signing key and compares signatures.
public struct SigV4Verifier: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// A refusal as S3 words it: error code and message.
    public struct Refusal: Sendable, Equatable {
        public var code: String
        public var message: String
    }

    /// nil when the request carries a valid signature by these credentials, else why not.
    public func check(method: String, uri: String, headers: [(name: String, value: String)], body: [UInt8]) -> Refusal? {
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        guard let authorization = header("authorization") else { return Refusal(code: "AccessDenied", message: "Access Denied") }
        guard let amzDate = header("x-amz-date"), amzDate.count == 16 else {
            return Refusal(code: "AccessDenied", message: "AWS authentication requires a valid Date or x-amz-date header")
        }
        let algorithm = "AWS4-HMAC-SHA256 "
        guard authorization.hasPrefix(algorithm) else { return Refusal(code: "InvalidArgument", message: "Unsupported Authorization Type") }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst(algorithm.count).split(separator: ",") {
            let item = part.trimmingSpaces
            guard let eq = item.firstIndex(of: "=") else { continue }
            fields[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"] else {
            return Refusal(code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5 else { return Refusal(code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; the Credential is mal-formed") }
        guard scope[0] == accessKeyID else {
            return Refusal(code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records.")
        }
        guard scope[1] == String(amzDate.prefix(8)), scope[2] == region, scope[3] == service, scope[4] == "aws4_request" else {
            return Refusal(code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed; the region '\(scope[2])' is wrong; expecting '\(region)'")
        }
        let payloadHash = Self.hex(SHA256.hash(data: body))
        guard let claimed = header("x-amz-content-sha256") else {
            return Refusal(code: "InvalidRequest", message: "Missing required header for this request: x-amz-content-sha256")
        }
        guard claimed == payloadHash || claimed == "UNSIGNED-PAYLOAD" else {
            return Refusal(code: "XAmzContentSHA256Mismatch", message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        }
        let names = signedHeaders.split(separator: ";").map(String.init)
        guard names.contains("host"), names == names.sorted() else {
            return Refusal(code: "AuthorizationHeaderMalformed", message: "host must be signed and SignedHeaders sorted")
        }
        if let token = sessionToken {
            guard header("x-amz-security-token") == token, names.contains("x-amz-security-token") else {
                return Refusal(code: "InvalidToken", message: "The provided token is malformed or otherwise invalid.")
            }
        }
        var canonicalHeaders = ""
        for name in names {
            let values = headers.filter { $0.name.lowercased() == name }.map { Self.collapse($0.value) }
            canonicalHeaders += name + ":" + values.joined(separator: ",") + "\n"
        }
        let question = uri.firstIndex(of: "?")
        let path = question.map { String(uri[..<$0]) } ?? uri
        let query = question.map { String(uri[uri.index(after: $0)...]) } ?? ""
        let canonicalPath = service == "s3" ? path : Self.encode(path, slash: true)
        let canonicalRequest = [method, canonicalPath, Self.canonicalQuery(query), canonicalHeaders, signedHeaders, claimed].joined(separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope[1...].joined(separator: "/"),
                            Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + secretAccessKey).utf8))
        for part in scope[1...4] { key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)) }
        let expected = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        guard expected == signature else {
            return Refusal(code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
        }
        return nil
    }

    static func canonicalQuery(_ query: String) -> String {
        query.split(separator: "&").map { item -> (String, String) in
            let eq = item.firstIndex(of: "=")
            let name = eq.map { item[..<$0] } ?? item[...]
            let value = eq.map { item[item.index(after: $0)...] } ?? ""
            return (encode(decode(name), slash: false), encode(decode(value), slash: false))
        }
        .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        .map { $0.0 + "=" + $0.1 }
        .joined(separator: "&")
    }

    static func collapse(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func encode(_ text: String, slash: Bool) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (slash && byte == UInt8(ascii: "/")) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "%"), let a = utf8.index(i, offsetBy: 1, limitedBy: utf8.endIndex), a < utf8.endIndex,
               let b = utf8.index(i, offsetBy: 2, limitedBy: utf8.endIndex), b < utf8.endIndex,
               let value = UInt8(String(decoding: [utf8[a], utf8[b]], as: UTF8.self), radix: 16) {
                bytes.append(value)
                i = utf8.index(after: b)
            } else {
                bytes.append(utf8[i])
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
