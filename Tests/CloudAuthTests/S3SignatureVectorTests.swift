@testable import CloudAuth
import SwitchboardTesting
import XCTest

/// The S3 GET Object example of AWS's Signature V4 documentation (sig-v4-header-based-auth:
/// examplebucket, `GET /test.txt`, `Range: bytes=0-9`, 20130524T000000Z) for both the signer
/// and the fakes' independent verifier, so neither can drift from AWS.
final class S3SignatureVectorTests: XCTestCase {
    static let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let expected = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

    func testSignerMatchesAWSExample() {
        let signer = AWSSigV4.s3(credentials: Self.credentials, region: "us-east-1")
        let added = [UInt8]().withUnsafeBytes {
            signer.sign(method: "GET", path: "/test.txt", query: "",
                        headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
                        payload: $0, time: .init(amzDate: "20130524T000000Z"))
        }
        XCTAssertEqual(added.first { $0.name == "authorization" }?.value, Self.expected)
    }

    func testVerifierAcceptsAWSExampleAndRejectsATamperedOne() {
        let verifier = SigV4Verifier(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1", service: "s3")
        var headers: [(name: String, value: String)] = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("x-amz-date", "20130524T000000Z"), ("Authorization", Self.expected),
        ]
        XCTAssertNil(verifier.check(method: "GET", uri: "/test.txt", headers: headers, body: []))
        XCTAssertEqual(verifier.check(method: "GET", uri: "/test2.txt", headers: headers, body: [])?.code, "SignatureDoesNotMatch")
        headers[1].value = "bytes=0-10"
        XCTAssertEqual(verifier.check(method: "GET", uri: "/test.txt", headers: headers, body: [])?.code, "SignatureDoesNotMatch")
    }

    /// A GetObject with a session token and a key needing encoding (space, `%`, `é`), signed by
    /// botocore 1.43.11 (`S3SigV4Auth`, region eu-west-1) for path-style
    /// `http://127.0.0.1:9000/litellm-proxy/dir/a%20b%25%C3%A9.yaml`: our signature must be the same.
    func testSignerMatchesBotocore() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         sessionToken: "FwoGZXIvYXdzEFAKE//session+token==")
        let path = "/litellm-proxy/" + URLEncoding.encode("dir/a b%é.yaml", keepSlash: true)
        XCTAssertEqual(path, "/litellm-proxy/dir/a%20b%25%C3%A9.yaml")
        let added = [UInt8]().withUnsafeBytes {
            AWSSigV4.s3(credentials: credentials, region: "eu-west-1")
                .sign(method: "GET", path: path, query: "", headers: [("host", "127.0.0.1:9000")], payload: $0, time: .init(amzDate: "20261130T033505Z"))
        }
        XCTAssertEqual(added.first { $0.name == "authorization" }?.value,
                       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=e49ac2503ae87f128ab9d106700597ca5fe1baa53fd65831c538b6f39a1a2450")
        XCTAssertEqual(added.first { $0.name == "x-amz-security-token" }?.value, credentials.sessionToken)
    }

    func testS3CanonicalPathIsNotEncodedTwice() {
        let key = "dir/a b%.yaml"
        let sent = "/bucket/" + URLEncoding.encode(key, keepSlash: true)
        XCTAssertEqual(sent, "/bucket/dir/a%20b%25.yaml")
        let verifier = SigV4Verifier(accessKeyID: "AKID", secretAccessKey: "secret", region: "eu-west-1", service: "s3")
        let signer = AWSSigV4.s3(credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"), region: "eu-west-1")
        let headers = [(name: "host", value: "127.0.0.1:9000")]
        let added = [UInt8]().withUnsafeBytes { signer.sign(method: "GET", path: sent, query: "", headers: headers, payload: $0, time: .now()) }
        XCTAssertNil(verifier.check(method: "GET", uri: sent, headers: headers + added, body: []))
        let twice = AWSSigV4(credentials: signer.credentials, region: "eu-west-1", service: "s3")
        let wrong = [UInt8]().withUnsafeBytes { twice.sign(method: "GET", path: sent, query: "", headers: headers, payload: $0, time: .now()) }
        XCTAssertEqual(verifier.check(method: "GET", uri: sent, headers: headers + wrong, body: [])?.code, "SignatureDoesNotMatch")
    }
}
