import CloudAuth
import NIOCore

/// A config object in Amazon S3 or an S3-compatible store: `GetObject` signed with Signature V4
/// from the standard AWS credential chain. The region is `AWS_REGION`/`AWS_DEFAULT_REGION` (or
/// the profile's), default `us-east-1`. `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` point at
/// another store (MinIO, the tests) with path-style addressing (`<endpoint>/<bucket>/<key>`);
/// otherwise virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com/<key>` (path-style on
/// the regional host for bucket names with dots). Conditional on the ETag (`If-None-Match`).
public struct S3ConfigSource: ConfigSource {
    public let bucket: String
    public let key: String
    public let region: String
    /// The URL of the object.
    public let objectURL: String
    let credentials: AWSCredentialChain
    let fetcher: HTTPFetcher

    public init(bucket: String, key: String, environment: [String: String],
                credentials: AWSCredentialChain? = nil, fetcher: HTTPFetcher = HTTPFetcher(timeout: .seconds(30))) {
        self.bucket = bucket
        self.key = key
        region = AWSRegion.resolve(environment: environment) ?? "us-east-1"
        let path = URLEncoding.encode(key, keepSlash: true)
        if var endpoint = AWSRegion.endpointOverride(service: "S3", environment: environment)?.value {
            while endpoint.hasSuffix("/") { endpoint.removeLast() }
            objectURL = endpoint + "/" + URLEncoding.encode(bucket) + "/" + path
        } else if bucket.contains(".") {
            objectURL = "https://s3.\(region).amazonaws.com/\(bucket)/\(path)"
        } else {
            objectURL = "https://\(bucket).s3.\(region).amazonaws.com/\(path)"
        }
        self.credentials = credentials ?? AWSCredentialChain.standard(environment: environment, fetcher: fetcher.with(timeout: .seconds(10)))
        self.fetcher = fetcher.withMaximumBody(maximumConfigBytes)
    }

    public var description: String { "s3://\(bucket)/\(key)" }
    public var watchedPath: String? { nil }

    public func fetch(ifChangedFrom version: String?) async throws(ConfigSourceError) -> ConfigFetch {
        let keys: AWSCredentials
        do {
            keys = try await credentials.credentials()
        } catch {
            throw ConfigSourceError("cannot fetch \(description): \(error)")
        }
        guard let url = HTTPURL(objectURL) else { throw ConfigSourceError("cannot fetch \(description): \(objectURL) is not an http(s) URL") }
        var headers: [(name: String, value: String)] = [("host", url.hostHeader)]
        let added = [UInt8]().withUnsafeBytes {
            AWSSigV4.s3(credentials: keys, region: region).sign(method: "GET", path: url.path, query: url.query, headers: headers, payload: $0, time: .now())
        }
        headers += added
        if let version { headers.append(("If-None-Match", version)) }
        let answer: HTTPFetchResponse
        do {
            answer = try await fetcher.fetch(HTTPFetchRequest(method: "GET", url: objectURL, headers: headers))
        } catch {
            throw ConfigSourceError("cannot fetch \(description): \(error)")
        }
        if answer.status == 304 { return .unchanged }
        guard answer.isSuccess else {
            if answer.status == 403 { await credentials.invalidate() }
            throw ConfigSourceError("cannot fetch \(description): S3 answered \(answer.status)\(AWSErrorText.summary(answer.text))")
        }
        return .changed(text: try utf8Text(answer.bytes, object: description), version: answer.header("etag"))
    }
}
