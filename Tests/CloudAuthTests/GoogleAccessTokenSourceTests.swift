import CloudAuth
import Foundation
import SwitchboardTesting
import XCTest

/// Google access tokens: a service account key's RS256 JWT grant (the fake verifies the
/// signature with the public key) and the metadata server; tokens are cached.
final class GoogleAccessTokenSourceTests: XCTestCase {
    func testServiceAccountKeyGrant() async throws {
        let google = try await FakeGoogleServer()
        defer { Task { await google.shutdown() } }
        let path = NSTemporaryDirectory() + "sa-\(UUID().uuidString).json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(google.serviceAccountJSON.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tokens = try GoogleAccessTokenSource(environment: ["GOOGLE_APPLICATION_CREDENTIALS": path], scopes: [GoogleAccessTokenSource.storageReadScope])
        let token = try await tokens.accessToken()
        XCTAssertTrue(token.hasPrefix("ya29.fake-"))
        let again = try await tokens.accessToken()
        XCTAssertEqual(again, token, "cached until shortly before expiry")
        XCTAssertEqual(google.grants, 1)
        let grant = try XCTUnwrap(google.requests.first)
        XCTAssertEqual(grant.header("content-type"), "application/x-www-form-urlencoded")
        XCTAssertTrue(grant.body.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
    }

    func testAKeyTheTokenEndpointDoesNotKnowIsRefused() async throws {
        let google = try await FakeGoogleServer()
        let other = try await FakeGoogleServer()
        defer { Task { await google.shutdown(); await other.shutdown() } }
        // Another key, same e-mail and token endpoint: the signature does not verify.
        let json = other.serviceAccountJSON.replacingOccurrences(of: other.tokenURI, with: google.tokenURI)
        let credentials = try GoogleCredentials.parse(json, path: "sa.json")
        do {
            _ = try await GoogleAccessTokenSource(credentials: credentials, scopes: ["s"]).accessToken()
            XCTFail("signature must not verify")
        } catch {
            XCTAssertTrue(error.description.contains("answered 400: Invalid JWT Signature."), error.description)
        }
    }

    func testAuthorizedUserRefreshToken() async throws {
        let google = try await FakeGoogleServer()
        defer { Task { await google.shutdown() } }
        let credentials = try GoogleCredentials.parse(google.authorizedUserJSON, path: "adc.json")
        let token = try await GoogleAccessTokenSource(credentials: credentials, scopes: ["s"]).accessToken()
        XCTAssertTrue(token.hasPrefix("ya29.fake-"))
        XCTAssertTrue(google.requests.first?.body.hasPrefix("grant_type=refresh_token&client_id=") ?? false)
        let wrong = try GoogleCredentials.parse(google.authorizedUserJSON.replacingOccurrences(of: "fake-client-secret", with: "other"), path: "adc.json")
        do {
            _ = try await GoogleAccessTokenSource(credentials: wrong, scopes: ["s"]).accessToken()
            XCTFail("the endpoint refuses a wrong client secret")
        } catch {
            XCTAssertTrue(error.description.hasSuffix("answered 400: Bad Request"), error.description)
            XCTAssertFalse(error.description.contains("other"))
        }
    }

    func testMetadataServer() async throws {
        let google = try await FakeGoogleServer()
        defer { Task { await google.shutdown() } }
        let tokens = try GoogleAccessTokenSource(environment: ["GCE_METADATA_HOST": "127.0.0.1:\(google.port)", "HOME": "/nonexistent"], scopes: [GoogleAccessTokenSource.cloudPlatformScope])
        let token = try await tokens.accessToken()
        XCTAssertTrue(token.hasPrefix("ya29.fake-"))
        XCTAssertEqual(google.requests.first?.header("metadata-flavor"), "Google")
    }

    func testBadKeyFilesNameTheProblem() {
        XCTAssertThrowsError(try GoogleCredentials.parse("{", path: "k.json")) { XCTAssertEqual("\($0)", "Google credentials: k.json is not JSON") }
        XCTAssertThrowsError(try GoogleCredentials.parse(#"{"type":"service_account","client_email":"a@b","private_key":"nope"}"#, path: "k.json")) {
            XCTAssertEqual("\($0)", "Google credentials: k.json private_key is not an RSA private key in PEM")
        }
        XCTAssertThrowsError(try GoogleCredentials.parse(#"{"type":"external_account"}"#, path: "k.json")) {
            XCTAssertTrue("\($0)".contains("has type 'external_account'"))
        }
        XCTAssertThrowsError(try GoogleCredentials.fromEnvironment(["GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/k.json"])) {
            XCTAssertTrue("\($0)".contains("does not exist"))
        }
    }
}
