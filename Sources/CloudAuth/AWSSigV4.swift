import Crypto
/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for one region and service. By default as every
/// AWS API but S3 expects it (`encodesPathTwice`): the request path is URI-encoded once more for
/// the canonical request; for S3 the path as sent is the canonical path. In both,
/// headers are lower-cased, trimmed and sorted, the payload is hashed with SHA-256 and the
/// signature is an HMAC-SHA256 chain over date, region, service and `aws4_request`.
///
/// ```swift
/// let signer = AWSSigV4(credentials: creds, region: "us-east-1", service: "bedrock")
/// let added = signer.sign(method: "POST", path: "/model/m/converse", query: "",
///                         headers: [("host", host), ("content-type", "application/json")],
///                         payload: bytes, time: AWSSigV4.Timestamp.now())
/// ```
public struct AWSSigV4: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    /// Whether the canonical path is the sent path URI-encoded once more (every service but S3);
    /// false for S3, whose canonical path is the path as sent.
    public var encodesPathTwice: Bool

    public init(credentials: AWSCredentials, region: String, service: String, encodesPathTwice: Bool = true) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.encodesPathTwice = encodesPathTwice
    }

    /// A signer for Amazon S3 (service `s3`, path not encoded twice).
    public static func s3(credentials: AWSCredentials, region: String) -> AWSSigV4 {
        AWSSigV4(credentials: credentials, region: region, service: "s3", encodesPathTwice: false)
    }

    /// A signing time: `x-amz-date` (`20150830T123600Z`) and its date (`20150830`).
    public struct Timestamp: Sendable, Equatable {
        public var amzDate: String
        public var date: Substring { amzDate.prefix(8) }

        public init(amzDate: String) { self.amzDate = amzDate }

        /// The wall clock now, in UTC.
        public static func now() -> Timestamp { Timestamp(unixSeconds: Int(time(nil))) }

        /// The UTC time `unixSeconds` after the epoch (proleptic Gregorian calendar).
        public init(unixSeconds: Int) {
            let t = UTCDateTime(unixSeconds: unixSeconds)
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
            amzDate = String(t.year) + two(t.month) + two(t.day) + "T" + two(t.hour) + two(t.minute) + two(t.second) + "Z"
        }
    }

    /// The headers to add to a request so that AWS accepts it: `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` (with a session token) and `authorization`.
    /// `headers` must hold every header to sign, `host` included, with the values sent.
    /// - Parameters:
    ///   - path: the request path as sent (already percent-encoded).
    ///   - query: the query string as sent, without `?`.
    public func sign(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        payload: UnsafeRawBufferPointer, time: Timestamp
    ) -> [(name: String, value: String)] {
        let payloadHash = Self.sha256Hex(payload)
        var added: [(name: String, value: String)] = [("x-amz-date", time.amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken, !token.isEmpty { added.append(("x-amz-security-token", token)) }
        let signed = headers + added
        let authorization = self.authorization(
            method: method, canonicalPath: encodesPathTwice ? Self.canonicalPath(path) : (path.isEmpty ? "/" : path),
            query: query, headers: signed,
            payloadHash: payloadHash, time: time)
        added.append(("authorization", authorization))
        return added
    }

    /// The `authorization` header value for a request whose headers (with `x-amz-date` and the
    /// rest already among them) are `headers`.
    public func authorization(
        method: String, canonicalPath: String, query: String, headers: [(name: String, value: String)],
        payloadHash: String, time: Timestamp
    ) -> String {
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let request = Self.canonicalRequest(
            method: method, canonicalPath: canonicalPath, query: query, canonicalHeaders: canonicalHeaders,
            signedHeaders: signedHeaders, payloadHash: payloadHash)
        let toSign = stringToSign(canonicalRequest: request, time: time)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: signingKey(date: time.date)))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(time.date)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// `20150830/us-east-1/service/aws4_request`
    public func scope(_ date: Substring) -> String { "\(date)/\(region)/\(service)/aws4_request" }

    public func stringToSign(canonicalRequest: String, time: Timestamp) -> String {
        "AWS4-HMAC-SHA256\n\(time.amzDate)\n\(scope(time.date))\n" + Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))
    }

    /// HMAC chain: `AWS4` + secret → date → region → service → `aws4_request`.
    func signingKey(date: Substring) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [String(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    // MARK: Canonical request

    public static func canonicalRequest(
        method: String, canonicalPath: String, query: String, canonicalHeaders: String, signedHeaders: String, payloadHash: String
    ) -> String {
        [method, canonicalPath, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
    }

    /// The path as sent, URI-encoded once more (all but unreserved characters and `/`), as
    /// every service but S3 expects: `/model/a%3A0/converse` → `/model/a%253A0/converse`.
    public static func canonicalPath(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, keepSlash: true)
    }

    /// Name-sorted `name=value` pairs, each strictly URI-encoded (after decoding what was sent).
    public static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = uriEncode(URLEncoding.decode(parts[0]), keepSlash: false)
            let value = parts.count > 1 ? uriEncode(URLEncoding.decode(parts[1]), keepSlash: false) : ""
            return (name, value)
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `name:value\n` lines (names lower-cased, values trimmed with inner runs of spaces
    /// collapsed, repeated names joined with `,`), sorted by name; and the `;`-joined names.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var byName: [String: [String]] = [:]
        for (name, value) in headers {
            byName[name.lowercased(), default: []].append(normalizedValue(value))
        }
        let names = byName.keys.sorted()
        var canonical = ""
        for name in names { canonical += name + ":" + byName[name]!.joined(separator: ",") + "\n" }
        return (canonical, names.joined(separator: ";"))
    }

    static func normalizedValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in value {
            if ch == " " || ch == "\t" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return out
    }

    /// RFC 3986 encoding as AWS does it: `A-Z a-z 0-9 - . _ ~` kept, every other byte `%XX`
    /// (upper-case hex); `/` kept when `keepSlash`.
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        URLEncoding.encode(text, keepSlash: keepSlash)
    }

    /// Lower-case hex of a digest or MAC.
    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of `bytes`, lower-case hex.
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(bufferPointer: bytes)
        return hex(hasher.finalize())
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
