import CloudAuth
import ConfigSources
import Foundation
import SwitchboardTesting
import XCTest

/// The config sources against fakes that check what the real services check: S3 verifies
/// Signature V4 on the server side, GCS the bearer token its token endpoint granted after
/// verifying the service account's JWT.
final class ConfigSourceTests: XCTestCase {
    static let yaml = "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n"

    func s3Environment(_ s3: FakeS3Server, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "AWS_ACCESS_KEY_ID": s3.verifier.accessKeyID, "AWS_SECRET_ACCESS_KEY": s3.verifier.secretAccessKey,
            "AWS_REGION": s3.region, "AWS_ENDPOINT_URL_S3": s3.endpointURL, "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
        ].merging(extra) { $1 }
    }

    func testS3GetObjectIsSignedAndConditional() async throws {
        let s3 = try await FakeS3Server(region: "eu-west-1")
        defer { Task { await s3.shutdown() } }
        s3.put(bucket: "litellm-proxy", key: "configs/proxy config.yaml", text: Self.yaml)
        let source = S3ConfigSource(bucket: "litellm-proxy", key: "configs/proxy config.yaml", environment: s3Environment(s3))
        XCTAssertEqual(source.description, "s3://litellm-proxy/configs/proxy config.yaml")
        XCTAssertEqual(source.objectURL, s3.endpointURL + "/litellm-proxy/configs/proxy%20config.yaml")
        let first = try await source.fetch(ifChangedFrom: nil)
        XCTAssertEqual(first, .changed(text: Self.yaml, version: FakeS3Server.etag(Self.yaml)))
        let request = try XCTUnwrap(s3.requests.last)
        XCTAssertTrue(request.header("authorization")?.contains("/eu-west-1/s3/aws4_request") ?? false)
        XCTAssertEqual(request.header("x-amz-content-sha256"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        let same = try await source.fetch(ifChangedFrom: FakeS3Server.etag(Self.yaml))
        XCTAssertEqual(same, .unchanged)
        s3.put(bucket: "litellm-proxy", key: "configs/proxy config.yaml", text: Self.yaml + "# edited\n")
        let changed = try await source.fetch(ifChangedFrom: FakeS3Server.etag(Self.yaml))
        XCTAssertEqual(changed, .changed(text: Self.yaml + "# edited\n", version: FakeS3Server.etag(Self.yaml + "# edited\n")))
    }

    func testS3RefusalsNameTheObjectAndTheCode() async throws {
        let s3 = try await FakeS3Server()
        defer { Task { await s3.shutdown() } }
        s3.put(bucket: "b", key: "k.yaml", text: Self.yaml)
        let wrongSecret = S3ConfigSource(bucket: "b", key: "k.yaml", environment: s3Environment(s3, ["AWS_SECRET_ACCESS_KEY": "wrong"]))
        await XCTAssertThrowsAsync(try await wrongSecret.fetch(ifChangedFrom: nil)) {
            XCTAssertTrue($0.hasPrefix("cannot fetch s3://b/k.yaml: S3 answered 403 SignatureDoesNotMatch: The request signature we calculated"), $0)
            XCTAssertFalse($0.contains("wrong"), "no secret in the message")
        }
        let missing = S3ConfigSource(bucket: "b", key: "other.yaml", environment: s3Environment(s3))
        await XCTAssertThrowsAsync(try await missing.fetch(ifChangedFrom: nil)) {
            XCTAssertEqual($0, "cannot fetch s3://b/other.yaml: S3 answered 404 NoSuchKey: The specified key does not exist.")
        }
        let noCredentials = S3ConfigSource(bucket: "b", key: "k.yaml", environment: ["AWS_ENDPOINT_URL": s3.endpointURL, "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"])
        await XCTAssertThrowsAsync(try await noCredentials.fetch(ifChangedFrom: nil)) {
            XCTAssertTrue($0.hasPrefix("cannot fetch s3://b/k.yaml: no AWS credentials found"), $0)
        }
    }

    func testS3WithTemporaryCredentialsFromWebIdentity() async throws {
        let sts = try await FakeAWSCredentialServer()
        let issued = sts.issued
        let s3 = try await FakeS3Server(accessKeyID: issued.accessKeyID, secretAccessKey: issued.secretAccessKey, sessionToken: issued.sessionToken)
        defer { Task { await s3.shutdown(); await sts.shutdown() } }
        s3.put(bucket: "b", key: "k.yaml", text: Self.yaml)
        let tokenFile = ScratchFiles.path("wi")
        _ = FileManager.default.createFile(atPath: tokenFile, contents: Data(sts.webIdentityToken.utf8))
        let env = [
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": sts.roleARN, "AWS_ENDPOINT_URL_STS": sts.endpointURL,
            "AWS_ENDPOINT_URL_S3": s3.endpointURL, "AWS_REGION": "us-east-1", "HOME": "/nonexistent",
        ]
        let fetched = try await S3ConfigSource(bucket: "b", key: "k.yaml", environment: env).fetch(ifChangedFrom: nil)
        XCTAssertEqual(fetched, .changed(text: Self.yaml, version: FakeS3Server.etag(Self.yaml)))
        XCTAssertEqual(s3.requests.last?.header("x-amz-security-token"), issued.sessionToken)
    }

    func testS3AddressingWithoutAnEndpointOverride() {
        let env = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_DEFAULT_REGION": "ap-southeast-2"]
        XCTAssertEqual(S3ConfigSource(bucket: "litellm-proxy", key: "a/b.yaml", environment: env).objectURL,
                       "https://litellm-proxy.s3.ap-southeast-2.amazonaws.com/a/b.yaml")
        XCTAssertEqual(S3ConfigSource(bucket: "my.bucket", key: "c.yaml", environment: env).objectURL,
                       "https://s3.ap-southeast-2.amazonaws.com/my.bucket/c.yaml")
        XCTAssertEqual(S3ConfigSource(bucket: "b", key: "c.yaml", environment: [:]).region, "us-east-1")
    }

    func testGCSMediaDownloadWithAServiceAccountToken() async throws {
        let google = try await FakeGoogleServer()
        defer { Task { await google.shutdown() } }
        google.put(bucket: "litellm-proxy", object: "configs/proxy_config.yaml", text: Self.yaml)
        let keyFile = ScratchFiles.path("sa", suffix: ".json")
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data(google.serviceAccountJSON.utf8))
        let source = try GCSConfigSource(bucket: "litellm-proxy", object: "configs/proxy_config.yaml", environment: [
            "STORAGE_EMULATOR_HOST": "127.0.0.1:\(google.port)", "GOOGLE_APPLICATION_CREDENTIALS": keyFile,
        ])
        XCTAssertEqual(source.mediaURL, google.endpointURL + "/storage/v1/b/litellm-proxy/o/configs%2Fproxy_config.yaml?alt=media")
        guard case .changed(let text, let generation?) = try await source.fetch(ifChangedFrom: nil) else { return XCTFail("expected the object") }
        XCTAssertEqual(text, Self.yaml)
        let same = try await source.fetch(ifChangedFrom: generation)
        XCTAssertEqual(same, .unchanged)
        XCTAssertEqual(google.grants, 1, "the token is reused")
        google.put(bucket: "litellm-proxy", object: "configs/proxy_config.yaml", text: "# v2\n")
        guard case .changed(let v2, let newGeneration) = try await source.fetch(ifChangedFrom: generation) else { return XCTFail("expected a change") }
        XCTAssertEqual(v2, "# v2\n")
        XCTAssertNotEqual(newGeneration, generation)
        let missing = try GCSConfigSource(bucket: "litellm-proxy", object: "nope.yaml", environment: [
            "STORAGE_EMULATOR_HOST": google.endpointURL, "GOOGLE_APPLICATION_CREDENTIALS": keyFile,
        ])
        await XCTAssertThrowsAsync(try await missing.fetch(ifChangedFrom: nil)) {
            XCTAssertEqual($0, "cannot fetch gs://litellm-proxy/nope.yaml: Cloud Storage answered 404: No such object: litellm-proxy/nope.yaml")
        }
    }

    func testGCSWithTheMetadataServerAndAnonymousEmulator() async throws {
        let google = try await FakeGoogleServer()
        defer { Task { await google.shutdown() } }
        google.put(bucket: "b", object: "c.yaml", text: Self.yaml)
        let viaMetadata = try GCSConfigSource(bucket: "b", object: "c.yaml", environment: [
            "STORAGE_EMULATOR_HOST": google.endpointURL, "GCE_METADATA_HOST": "127.0.0.1:\(google.port)", "HOME": "/nonexistent",
        ])
        guard case .changed(let text, _) = try await viaMetadata.fetch(ifChangedFrom: nil) else { return XCTFail("expected the object") }
        XCTAssertEqual(text, Self.yaml)
        // An emulator without credentials: anonymous, as Google's clients do (this fake refuses it).
        let anonymous = try GCSConfigSource(bucket: "b", object: "c.yaml", environment: ["STORAGE_EMULATOR_HOST": google.endpointURL, "HOME": "/nonexistent"])
        await XCTAssertThrowsAsync(try await anonymous.fetch(ifChangedFrom: nil)) {
            XCTAssertTrue($0.contains("Cloud Storage answered 401: Anonymous caller"), $0)
        }
        XCTAssertNil(google.requests.last?.header("authorization"))
    }

    func testSelectionFollowsTheSeed() throws {
        XCTAssertNil(try ConfigSourceSelection(configOption: nil, environment: [:]).source)
        XCTAssertEqual(try ConfigSourceSelection(configOption: nil, environment: ["CONFIG_FILE_PATH": "/c.yaml"]).source?.description, "/c.yaml")
        XCTAssertEqual(try ConfigSourceSelection(configOption: "/x.yaml", environment: ["CONFIG_FILE_PATH": "/c.yaml"]).source?.watchedPath, "/x.yaml")
        let s3 = try ConfigSourceSelection(configOption: nil, environment: [
            "LITELLM_CONFIG_BUCKET_NAME": "litellm-proxy", "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "litellm_proxy_config.yaml",
        ])
        XCTAssertTrue(s3.source is S3ConfigSource)
        XCTAssertEqual(s3.source?.description, "s3://litellm-proxy/litellm_proxy_config.yaml")
        let gcs = try ConfigSourceSelection(configOption: "/ignored.yaml", environment: [
            "LITELLM_CONFIG_BUCKET_TYPE": "gcs", "LITELLM_CONFIG_BUCKET_NAME": "litellm-proxy",
            "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "proxy_config.yaml", "GCE_METADATA_HOST": "127.0.0.1:1",
        ])
        XCTAssertTrue(gcs.source is GCSConfigSource)
        XCTAssertEqual(gcs.source?.description, "gs://litellm-proxy/proxy_config.yaml")
        XCTAssertEqual(gcs.warnings, ["--config /ignored.yaml is ignored: LITELLM_CONFIG_BUCKET_NAME is set, so the config is read from gs://litellm-proxy/proxy_config.yaml"])
        XCTAssertTrue(try ConfigSourceSelection(configOption: nil, environment: [
            "LITELLM_CONFIG_BUCKET_TYPE": "S3", "LITELLM_CONFIG_BUCKET_NAME": "b", "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "k",
        ]).source is S3ConfigSource)
        XCTAssertThrowsError(try ConfigSourceSelection(configOption: nil, environment: ["LITELLM_CONFIG_BUCKET_NAME": "b"])) {
            XCTAssertTrue("\($0)".contains("LITELLM_CONFIG_BUCKET_OBJECT_KEY is not"))
        }
        XCTAssertThrowsError(try ConfigSourceSelection(configOption: nil, environment: [
            "LITELLM_CONFIG_BUCKET_TYPE": "azure", "LITELLM_CONFIG_BUCKET_NAME": "b", "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "k",
        ])) { XCTAssertEqual("\($0)", "LITELLM_CONFIG_BUCKET_TYPE must be s3 or gcs, got 'azure'") }
        XCTAssertThrowsError(try ConfigSourceSelection(configOption: nil, environment: ["LITELLM_CONFIG_BUCKET_TYPE": "gcs"]))
    }

    func testFileSource() throws {
        let path = ScratchFiles.path("cfg", suffix: ".yaml")
        XCTAssertThrowsError(try FileConfigSource(path: path).fetch(ifChangedFrom: nil)) { XCTAssertEqual("\($0)", "cannot read config file \(path): no such file") }
        _ = FileManager.default.createFile(atPath: path, contents: Data(Self.yaml.utf8))
        XCTAssertEqual(try FileConfigSource(path: path).fetch(ifChangedFrom: nil), .changed(text: Self.yaml, version: nil))
    }
}

/// Asserts that `body` throws and hands the error's text to `check`.
func XCTAssertThrowsAsync<T>(_ body: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
                             _ check: (String) -> Void) async {
    guard let text = await thrownText(body) else { return XCTFail("expected an error", file: file, line: line) }
    check(text)
}
