import Crypto
import NIOCore
import NIOPosix
import Synchronization

/// An S3-compatible object store on a loopback port (path-style addressing, as MinIO and
/// `AWS_ENDPOINT_URL_S3` clients use it): `GET /<bucket>/<key>` answers the object with its
/// `ETag` and honours `If-None-Match` (304); errors are S3's XML (`NoSuchBucket`, `NoSuchKey`,
/// `AccessDenied`, `SignatureDoesNotMatch`, ...). Every request's Signature V4 is verified by
/// ``SigV4Verifier`` (service `s3`) against ``credentials``. `failWith` makes every GET fail.
public final class FakeS3Server: Sendable {
    public let region: String
    public let verifier: SigV4Verifier
    private let server: Mutex<FakeOpenAIServer?> = Mutex(nil)
    private let objects = Mutex<[String: [String: String]]>([:])
    private let failure = Mutex<(status: Int, code: String)?>(nil)

    public init(region: String = "us-east-1", accessKeyID: String = "AKIDEXAMPLE",
                secretAccessKey: String = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: String? = nil) async throws {
        self.region = region
        verifier = SigV4Verifier(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken, region: region, service: "s3")
        let box = Mutex<FakeS3Server?>(nil)
        let http = try await FakeOpenAIServer { request in
            box.withLock { $0 }?.answer(request) ?? .close
        }
        server.withLock { $0 = http }
        box.withLock { $0 = self }
    }

    /// `http://127.0.0.1:PORT` (for `AWS_ENDPOINT_URL_S3`).
    public var endpointURL: String { "http://127.0.0.1:\(port)" }
    public var port: Int { server.withLock { $0!.port } }
    public var requests: [RecordedRequest] { server.withLock { $0!.requests } }

    /// Stores (or replaces) an object.
    public func put(bucket: String, key: String, text: String) {
        objects.withLock { $0[bucket, default: [:]][key] = text }
    }

    /// Makes every GET answer `status` with error `code` (nil: answer normally again).
    public func failWith(status: Int, code: String) { failure.withLock { $0 = (status, code) } }
    public func stopFailing() { failure.withLock { $0 = nil } }

    /// The object's ETag as S3 gives it: the quoted MD5 of its bytes.
    public static func etag(_ text: String) -> String {
        "\"" + Insecure.MD5.hash(data: Array(text.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\""
    }

    public func shutdown() async {
        await server.withLock { $0 }?.shutdown()
    }

    func answer(_ request: RecordedRequest) -> FakeResponse {
        if let refusal = verifier.check(method: request.method, uri: request.uri, headers: request.headers, body: Array(request.body.utf8)) {
            return Self.error(403, refusal.code, refusal.message)
        }
        guard request.method == "GET" else { return Self.error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.") }
        if let failure = failure.withLock({ $0 }) { return Self.error(failure.status, failure.code, "Injected failure") }
        let path = String(request.uri.prefix { $0 != "?" }.dropFirst())
        guard let slash = path.firstIndex(of: "/") else { return Self.error(400, "InvalidRequest", "path-style GetObject expected") }
        let bucket = SigV4Verifier.decode(path[..<slash])
        let key = SigV4Verifier.decode(path[path.index(after: slash)...])
        let stored = objects.withLock { $0[bucket] }
        guard let stored else { return Self.error(404, "NoSuchBucket", "The specified bucket does not exist") }
        guard let text = stored[key] else { return Self.error(404, "NoSuchKey", "The specified key does not exist.") }
        let etag = Self.etag(text)
        if request.header("if-none-match") == etag {
            return .body(status: 304, contentType: "application/octet-stream", body: "", headers: [("ETag", etag)])
        }
        return .body(status: 200, contentType: "application/octet-stream", body: text, headers: [("ETag", etag), ("x-amz-request-id", "FAKE0001")])
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> FakeResponse {
        .body(status: status, contentType: "application/xml",
              body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>FAKE0001</RequestId></Error>")
    }
}
