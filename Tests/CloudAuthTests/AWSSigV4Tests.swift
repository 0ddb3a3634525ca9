import NIOCore
@testable import CloudAuth
import XCTest

/// Signature V4 against AWS's published test suite (aws-sig-v4-test-suite: credentials
/// AKIDEXAMPLE, region us-east-1, service "service", 20150830T123600Z).
final class AWSSigV4Tests: XCTestCase {
    static let signer = AWSSigV4(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let time = AWSSigV4.Timestamp(amzDate: "20150830T123600Z")
    static let scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let host = (name: "Host", value: "example.amazonaws.com")
    static let date = (name: "X-Amz-Date", value: "20150830T123600Z")

    func hash(_ text: String) -> String { Array(text.utf8).withUnsafeBytes { AWSSigV4.sha256Hex($0) } }

    func authorization(
        _ method: String, _ path: String, query: String = "", headers: [(name: String, value: String)], body: String = "",
        signer: AWSSigV4 = AWSSigV4Tests.signer
    ) -> String {
        signer.authorization(
            method: method, canonicalPath: AWSSigV4.canonicalPath(path), query: query, headers: headers,
            payloadHash: hash(body), time: Self.time)
    }

    func testGetVanilla() {
        XCTAssertEqual(
            authorization("GET", "/", headers: [Self.host, Self.date]),
            Self.scope + ", SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    func testPostVanilla() {
        XCTAssertEqual(
            authorization("POST", "/", headers: [Self.host, Self.date]),
            Self.scope + ", SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    func testGetVanillaQueryOrderKeyCaseSortsTheQuery() {
        XCTAssertEqual(AWSSigV4.canonicalQuery("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2")
        XCTAssertEqual(
            authorization("GET", "/", query: "Param2=value2&Param1=value1", headers: [Self.host, Self.date]),
            Self.scope + ", SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    func testPostXWWWFormURLEncodedCanonicalRequestStringToSignAndSignature() {
        let headers = [(name: "Content-Type", value: "application/x-www-form-urlencoded"), Self.host, Self.date]
        let (canonicalHeaders, signed) = AWSSigV4.canonicalHeaders(headers)
        let request = AWSSigV4.canonicalRequest(
            method: "POST", canonicalPath: "/", query: "", canonicalHeaders: canonicalHeaders, signedHeaders: signed,
            payloadHash: hash("Param1=value1"))
        XCTAssertEqual(request, "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        XCTAssertEqual(
            Self.signer.stringToSign(canonicalRequest: request, time: Self.time),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281")
        XCTAssertEqual(
            authorization("POST", "/", headers: headers, body: "Param1=value1"),
            Self.scope + ", SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    func testPostSTSHeaderBeforeSignsTheSessionToken() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        XCTAssertEqual(
            authorization("POST", "/", headers: [Self.host, Self.date, (name: "X-Amz-Security-Token", value: token)]),
            Self.scope + ", SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
    }

    func testGetHeaderValueTrimCollapsesSpaces() {
        let headers = [Self.host, Self.date, (name: "My-Header1", value: " value1"), (name: "My-Header2", value: "\"a   b   c\"")]
        XCTAssertEqual(
            authorization("GET", "/", headers: headers),
            Self.scope + ", SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    func testTheCanonicalPathIsEncodedOnceMoreAsServicesOtherThanS3Expect() {
        XCTAssertEqual(AWSSigV4.uriEncode("anthropic.claude-3-haiku-20240307-v1:0", keepSlash: false), "anthropic.claude-3-haiku-20240307-v1%3A0")
        XCTAssertEqual(AWSSigV4.canonicalPath("/model/anthropic.claude-v2%3A1/converse"), "/model/anthropic.claude-v2%253A1/converse")
        XCTAssertEqual(AWSSigV4.canonicalPath(""), "/")
        XCTAssertEqual(AWSSigV4.uriEncode("a/b c~", keepSlash: false), "a%2Fb%20c~")
    }

    func testSignAddsDatePayloadHashTokenAndAnAuthorizationThatVerifies() {
        var signer = Self.signer
        signer.credentials.sessionToken = "session-token"
        let body = Array(#"{"messages":[]}"#.utf8)
        let base = [(name: "Host", value: "bedrock-runtime.us-east-1.amazonaws.com"), (name: "Content-Type", value: "application/json")]
        let added = body.withUnsafeBytes {
            signer.sign(method: "POST", path: "/model/m%3A0/converse", query: "", headers: base, payload: $0, time: Self.time)
        }
        XCTAssertEqual(added.map(\.name), ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"])
        XCTAssertEqual(added[0].value, "20150830T123600Z")
        XCTAssertEqual(added[1].value, hash(#"{"messages":[]}"#))
        XCTAssertEqual(added[2].value, "session-token")
        let expected = signer.authorization(
            method: "POST", canonicalPath: "/model/m%253A0/converse", query: "", headers: base + added.dropLast(),
            payloadHash: added[1].value, time: Self.time)
        XCTAssertEqual(added[3].value, expected)
        XCTAssertTrue(expected.contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
    }

    func testTimestampsAreUTCCalendarDates() {
        for (seconds, stamp) in [
            (0, "19700101T000000Z"), (1_440_938_160, "20150830T123600Z"), (951_868_799, "20000229T235959Z"),
            (1_709_210_096, "20240229T123456Z"), (4_107_542_401, "21000301T000001Z"),
        ] {
            XCTAssertEqual(AWSSigV4.Timestamp(unixSeconds: seconds).amzDate, stamp, "\(seconds)")
        }
        XCTAssertEqual(AWSSigV4.Timestamp(amzDate: "20150830T123600Z").date, "20150830")
    }
}
