import _CryptoExtras
import Crypto
import Foundation
import OpenAIWire
import Synchronization

/// Google's endpoints a config fetch needs, on one loopback port, each speaking its real
/// protocol:
/// - the OAuth token endpoint (`POST /token`, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`):
///   the assertion's RS256 signature is verified with the service account's public key and its
///   claims (`iss`, `aud`, `scope`, `iat`, `exp`) checked; answers `{access_token, expires_in, token_type}`;
///   also `grant_type=refresh_token` for ``authorizedUserJSON``;
/// - the metadata server (`GET /computeMetadata/v1/instance/service-accounts/default/token`,
///   `Metadata-Flavor: Google` required);
/// - Cloud Storage's JSON API media download (`GET /storage/v1/b/<bucket>/o/<object>?alt=media`)
///   with `Authorization: Bearer` of a token it issued, `x-goog-generation` and
///   `ifGenerationNotMatch` (304); errors in Google's JSON shape.
public final class FakeGoogleServer: Sendable {
    public let clientEmail = "switchboard@fake-project.iam.gserviceaccount.com"
    public let privateKeyPEM: String
    let publicKey: _RSA.Signing.PublicKey
    private let server: Mutex<FakeOpenAIServer?> = Mutex(nil)
    private let state = Mutex(State())

    struct State {
        var objects: [String: [String: (text: String, generation: Int)]] = [:]
        var nextGeneration = 1_700_000_000_000_001
        var issuedTokens: Set<String> = []
        var failure: (status: Int, message: String)?
        var grants = 0
    }

    public init() async throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        privateKeyPEM = key.pemRepresentation
        publicKey = key.publicKey
        let box = Mutex<FakeGoogleServer?>(nil)
        let http = try await FakeOpenAIServer { request in box.withLock { $0 }?.answer(request) ?? .close }
        server.withLock { $0 = http }
        box.withLock { $0 = self }
    }

    public var port: Int { server.withLock { $0!.port } }
    /// `http://127.0.0.1:PORT` (for `STORAGE_EMULATOR_HOST`; `GCE_METADATA_HOST` takes `127.0.0.1:PORT`).
    public var endpointURL: String { "http://127.0.0.1:\(port)" }
    public var tokenURI: String { endpointURL + "/token" }
    public var requests: [RecordedRequest] { server.withLock { $0!.requests } }
    /// Access tokens granted so far.
    public var grants: Int { state.withLock { $0.grants } }

    /// A service account key file for this server's key and token endpoint.
    public var serviceAccountJSON: String {
        JSONValue.object([
            .init("type", .string("service_account")), .init("project_id", .string("fake-project")),
            .init("private_key_id", .string("fakekeyid1")), .init("private_key", .string(privateKeyPEM)),
            .init("client_email", .string(clientEmail)), .init("client_id", .string("1234567890")),
            .init("token_uri", .string(tokenURI)),
        ]).jsonText
    }

    static let userClientID = "764086051850-fake.apps.googleusercontent.com"
    static let userClientSecret = "fake-client-secret"
    static let userRefreshToken = "1//fake-refresh-token"

    /// A gcloud user login file (`authorized_user`) whose refresh token this server accepts.
    public var authorizedUserJSON: String {
        JSONValue.object([
            .init("type", .string("authorized_user")), .init("client_id", .string(Self.userClientID)),
            .init("client_secret", .string(Self.userClientSecret)), .init("refresh_token", .string(Self.userRefreshToken)),
            .init("token_uri", .string(tokenURI)),
        ]).jsonText
    }

    /// Stores (or replaces) an object; each write gets a new generation.
    public func put(bucket: String, object: String, text: String) {
        state.withLock {
            $0.objects[bucket, default: [:]][object] = (text, $0.nextGeneration)
            $0.nextGeneration += 1
        }
    }

    public func failWith(status: Int, message: String) { state.withLock { $0.failure = (status, message) } }
    public func stopFailing() { state.withLock { $0.failure = nil } }

    public func shutdown() async { await server.withLock { $0 }?.shutdown() }

    func answer(_ request: RecordedRequest) -> FakeResponse {
        let path = request.path
        if request.method == "POST" && path == "/token" { return grant(request) }
        if request.method == "GET" && path == "/computeMetadata/v1/instance/service-accounts/default/token" {
            guard request.header("metadata-flavor") == "Google" else {
                return .body(status: 403, contentType: "text/html", body: "Missing Metadata-Flavor:Google header.")
            }
            return .json(status: 200, body: issueToken())
        }
        if request.method == "GET" && path.hasPrefix("/storage/v1/b/") { return media(request, path: path) }
        return Self.error(404, "Not Found")
    }

    func issueToken() -> String {
        let token = "ya29.fake-" + UUID().uuidString
        state.withLock {
            $0.issuedTokens.insert(token)
            $0.grants += 1
        }
        return #"{"access_token":"\#(token)","expires_in":3599,"token_type":"Bearer"}"#
    }

    func grant(_ request: RecordedRequest) -> FakeResponse {
        let form = request.formFields
        func refuse(_ why: String) -> FakeResponse { .json(status: 400, body: #"{"error":"invalid_grant","error_description":"\#(why)"}"#) }
        if form["grant_type"] == "refresh_token" {
            guard form["client_id"] == Self.userClientID, form["client_secret"] == Self.userClientSecret,
                  form["refresh_token"] == Self.userRefreshToken else {
                return .json(status: 400, body: #"{"error":"invalid_grant","error_description":"Bad Request"}"#)
            }
            return .json(status: 200, body: issueToken())
        }
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"] else {
            return .json(status: 400, body: #"{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}"#)
        }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URL(parts[0]), let claimBytes = Self.base64URL(parts[1]),
              let signature = Self.base64URL(parts[2]),
              let header = try? JSONValue.parse(String(decoding: headerBytes, as: UTF8.self)),
              let claims = try? JSONValue.parse(String(decoding: claimBytes, as: UTF8.self)) else {
            return refuse("Invalid JWT: malformed")
        }
        guard header["alg"]?.stringValue == "RS256" else { return refuse("Invalid JWT: alg must be RS256") }
        let signed = Array((parts[0] + "." + parts[1]).utf8)
        guard publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5) else {
            return refuse("Invalid JWT Signature.")
        }
        let now = Int(Date().timeIntervalSince1970)
        guard claims["iss"]?.stringValue == clientEmail else { return refuse("Invalid JWT: iss") }
        guard claims["aud"]?.stringValue == tokenURI else { return refuse("Invalid JWT: aud") }
        guard let scope = claims["scope"]?.stringValue, !scope.isEmpty else { return refuse("Invalid JWT: no scope") }
        guard let iat = claims["iat"]?.intValue, let exp = claims["exp"]?.intValue, abs(iat - now) < 300, exp > now, exp - iat <= 3600 else {
            return refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        }
        return .json(status: 200, body: issueToken())
    }

    func media(_ request: RecordedRequest, path: String) -> FakeResponse {
        guard let auth = request.header("authorization"), auth.hasPrefix("Bearer "),
              state.withLock({ $0.issuedTokens.contains(String(auth.dropFirst(7))) }) else {
            return Self.error(401, "Anonymous caller does not have storage.objects.get access to the Google Cloud Storage object.")
        }
        if let failure = state.withLock({ $0.failure }) { return Self.error(failure.status, failure.message) }
        let rest = path.dropFirst("/storage/v1/b/".count)
        guard let slash = rest.firstIndex(of: "/"), rest[rest.index(after: slash)...].hasPrefix("o/") else { return Self.error(404, "Not Found") }
        let bucket = SigV4Verifier.decode(rest[..<slash])
        let object = SigV4Verifier.decode(rest[rest.index(slash, offsetBy: 3)...])
        let query = request.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map { $0.split(separator: "&").map(String.init) } ?? []
        guard query.contains("alt=media") else { return Self.error(400, "only media downloads are faked") }
        guard let stored = state.withLock({ $0.objects[bucket] }) else { return Self.error(404, "The specified bucket does not exist.") }
        guard let entry = stored[object] else { return Self.error(404, "No such object: \(bucket)/\(object)") }
        if query.contains("ifGenerationNotMatch=\(entry.generation)") {
            return .body(status: 304, contentType: "text/plain", body: "", headers: [("x-goog-generation", String(entry.generation))])
        }
        return .body(status: 200, contentType: "application/octet-stream", body: entry.text,
                     headers: [("x-goog-generation", String(entry.generation)), ("ETag", "\"fake\(entry.generation)\"")])
    }

    static func error(_ status: Int, _ message: String) -> FakeResponse {
        .json(status: status, body: JSONValue.object([.init("error", .object([
            .init("code", .int(status)), .init("message", .string(message)),
            .init("errors", .array([.object([.init("message", .string(message)), .init("domain", .string("global"))])])),
        ]))]).jsonText)
    }

    static func base64URL(_ text: Substring) -> [UInt8]? {
        var base = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base.utf8.count % 4 != 0 { base.append("=") }
        return Data(base64Encoded: base).map(Array.init)
    }
}
