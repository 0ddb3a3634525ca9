import CloudAuth
import Foundation
import SwitchboardTesting
import XCTest

/// Each source of the AWS credential chain against a fake of its endpoint, and the chain's order,
/// stop-on-failure and caching.
final class AWSCredentialChainTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = NSTemporaryDirectory() + "cloudauth-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ text: String) -> String {
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// An environment in which nothing but what the test adds is configured (no real home, IMDS off).
    func isolated(_ extra: [String: String]) -> [String: String] {
        ["HOME": directory, "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { $1 }
    }

    func testEnvironmentVariables() async throws {
        let chain = AWSCredentialChain.standard(environment: isolated(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SESSION_TOKEN": "T"]))
        let credentials = try await chain.credentials()
        XCTAssertEqual(credentials, AWSCredentials(accessKeyID: "AKID", secretAccessKey: "S", sessionToken: "T"))
        do {
            _ = try await AWSCredentialChain.standard(environment: isolated(["AWS_ACCESS_KEY_ID": "AKID"])).credentials()
            XCTFail("half a key pair must fail")
        } catch {
            XCTAssertTrue(error.description.contains("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), error.description)
        }
    }

    func testSharedCredentialsFileAndProfiles() async throws {
        let file = write("credentials", """
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret
            # a comment
            [prod]
            aws_access_key_id=PRODKEY
            aws_secret_access_key=prodsecret
            aws_session_token = prodtoken
            """)
        let config = write("config", "[profile fromconfig]\nregion = eu-central-1\naws_access_key_id = CFGKEY\naws_secret_access_key = cfgsecret\n")
        var env = isolated(["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_CONFIG_FILE": config])
        let first = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(first.accessKeyID, "DEFAULTKEY")
        env["AWS_PROFILE"] = "prod"
        let prod = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(prod, AWSCredentials(accessKeyID: "PRODKEY", secretAccessKey: "prodsecret", sessionToken: "prodtoken"))
        env["AWS_PROFILE"] = "fromconfig"
        let fromConfig = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(fromConfig.accessKeyID, "CFGKEY")
        XCTAssertEqual(AWSRegion.resolve(environment: env), "eu-central-1")
        env["AWS_REGION"] = "ap-south-1"
        XCTAssertEqual(AWSRegion.resolve(environment: env), "ap-south-1")
        env["AWS_PROFILE"] = "missing"
        do {
            _ = try await AWSCredentialChain.standard(environment: env).credentials()
            XCTFail("a named profile that does not exist must fail")
        } catch {
            XCTAssertTrue(error.description.contains("profile 'missing' (AWS_PROFILE)"), error.description)
        }
        // ~/.aws/credentials under HOME.
        try FileManager.default.createDirectory(atPath: directory + "/.aws", withIntermediateDirectories: true)
        _ = write(".aws/credentials", "[default]\naws_access_key_id = HOMEKEY\naws_secret_access_key = homesecret\n")
        let home = try await AWSCredentialChain.standard(environment: isolated([:])).credentials()
        XCTAssertEqual(home.accessKeyID, "HOMEKEY")
    }

    func testWebIdentityExchangesTheTokenWithSTS() async throws {
        let fake = try await FakeAWSCredentialServer()
        defer { Task { await fake.shutdown() } }
        let tokenFile = write("token", fake.webIdentityToken + "\n")
        let env = isolated([
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": fake.roleARN, "AWS_ROLE_SESSION_NAME": "sb-test",
            "AWS_ENDPOINT_URL_STS": fake.endpointURL,
        ])
        let credentials = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(credentials.accessKeyID, fake.issued.accessKeyID)
        XCTAssertEqual(credentials.secretAccessKey, fake.issued.secretAccessKey)
        XCTAssertEqual(credentials.sessionToken, fake.issued.sessionToken)
        XCTAssertEqual(credentials.expiration, ISO8601DateFormatter().date(from: fake.issued.expiration))
        let request = try XCTUnwrap(fake.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertTrue(request.body.contains("RoleSessionName=sb-test"), request.body)
        XCTAssertNil(request.header("authorization"), "AssumeRoleWithWebIdentity is an unsigned call")

        let wrongRole = env.merging(["AWS_ROLE_ARN": "arn:aws:iam::1:role/other"]) { $1 }
        do {
            _ = try await AWSCredentialChain.standard(environment: wrongRole).credentials()
            XCTFail("STS refused")
        } catch {
            XCTAssertTrue(error.description.contains("answered 403 AccessDenied: Not authorized"), error.description)
        }
        // AWS_ENDPOINT_URL applies when there is no STS-specific override.
        var general = env
        general["AWS_ENDPOINT_URL_STS"] = nil
        general["AWS_ENDPOINT_URL"] = fake.endpointURL
        XCTAssertEqual(AWSWebIdentityCredentials(environment: general).endpoint, fake.endpointURL)
        XCTAssertEqual(AWSWebIdentityCredentials(environment: ["AWS_REGION": "eu-west-3"]).endpoint, "https://sts.eu-west-3.amazonaws.com")
    }

    func testContainerCredentialsWithAuthorizationToken() async throws {
        let fake = try await FakeAWSCredentialServer(containerAuthorization: "Bearer pod-identity-token")
        defer { Task { await fake.shutdown() } }
        var env = isolated([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.endpointURL + fake.containerPath,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer pod-identity-token",
        ])
        let credentials = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(credentials.sessionToken, fake.issued.sessionToken)
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = nil
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = write("pod-token", "Bearer pod-identity-token\n")
        let fromFile = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(fromFile.accessKeyID, fake.issued.accessKeyID)
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = nil
        do {
            _ = try await AWSCredentialChain.standard(environment: env).credentials()
            XCTFail("the endpoint requires the token")
        } catch {
            XCTAssertTrue(error.description.contains("container credentials: the endpoint answered 401"), error.description)
        }
        let remote = isolated(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds"])
        do {
            _ = try await AWSCredentialChain.standard(environment: remote).credentials()
            XCTFail("plain http to a remote host is refused")
        } catch {
            XCTAssertTrue(error.description.contains("must name a loopback address"), error.description)
        }
    }

    func testContainerEndpoints() throws {
        XCTAssertEqual(try AWSContainerCredentials(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]).endpoint(),
                       "http://169.254.170.2/v2/credentials/abc")
        XCTAssertEqual(try AWSContainerCredentials(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"]).endpoint(),
                       "http://169.254.170.23/v1/credentials")
        XCTAssertEqual(try AWSContainerCredentials(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"]).endpoint(),
                       "https://creds.example.com/x")
        XCTAssertNil(try AWSContainerCredentials(environment: [:]).endpoint())
        XCTAssertThrowsError(try AWSContainerCredentials(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "creds"]).endpoint())
    }

    func testWebIdentityMisconfigurationsStopTheChain() async throws {
        let missingRole = isolated(["AWS_WEB_IDENTITY_TOKEN_FILE": write("t", "token"), "AWS_ACCESS_KEY_ID": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"])
        await XCTAssertThrowsAsync(try await AWSCredentialChain.standard(environment: missingRole).credentials()) {
            XCTAssertEqual($0, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        }
        let missingFile = isolated(["AWS_WEB_IDENTITY_TOKEN_FILE": directory + "/absent", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"])
        await XCTAssertThrowsAsync(try await AWSCredentialChain.standard(environment: missingFile).credentials()) {
            XCTAssertTrue($0.contains("does not exist or is empty"), $0)
        }
    }

    func testInstanceMetadataV2() async throws {
        let fake = try await FakeAWSCredentialServer()
        defer { Task { await fake.shutdown() } }
        let env = ["HOME": directory!, "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.endpointURL + "/"]
        let credentials = try await AWSCredentialChain.standard(environment: env).credentials()
        XCTAssertEqual(credentials.accessKeyID, fake.issued.accessKeyID)
        XCTAssertEqual(credentials.sessionToken, fake.issued.sessionToken)
        XCTAssertEqual(fake.requests.map { "\($0.method) \($0.uri)" }, [
            "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/fake-instance-role",
        ])
        XCTAssertEqual(fake.requests[0].header("x-aws-ec2-metadata-token-ttl-seconds"), "21600")
    }

    func testNothingConfiguredNamesEverySource() async {
        let fake = try? await FakeAWSCredentialServer()
        let port = fake.map { $0.endpointURL } ?? "http://127.0.0.1:1"
        await fake?.shutdown()
        do {
            _ = try await AWSCredentialChain.standard(environment: ["HOME": directory, "AWS_EC2_METADATA_SERVICE_ENDPOINT": port]).credentials()
            XCTFail("no credentials anywhere")
        } catch {
            XCTAssertTrue(error.description.hasPrefix("no AWS credentials found (tried environment, web identity, shared credentials file, container credentials, EC2 instance metadata; EC2 instance metadata:"), error.description)
        }
    }

    func testChainOrderAndCaching() async throws {
        let fake = try await FakeAWSCredentialServer()
        defer { Task { await fake.shutdown() } }
        let file = write("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n")
        // The environment wins over the file; the file over instance metadata.
        let both = try await AWSCredentialChain.standard(environment: isolated(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SHARED_CREDENTIALS_FILE": file])).credentials()
        XCTAssertEqual(both.accessKeyID, "ENVKEY")
        let chain = AWSCredentialChain.standard(environment: ["HOME": directory!, "AWS_SHARED_CREDENTIALS_FILE": file, "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.endpointURL])
        let fileFirst = try await chain.credentials()
        XCTAssertEqual(fileFirst.accessKeyID, "FILEKEY")
        XCTAssertTrue(fake.requests.isEmpty)
        // Temporary credentials are cached until five minutes before they expire.
        let imds = AWSCredentialChain.standard(environment: ["HOME": directory!, "AWS_EC2_METADATA_SERVICE_ENDPOINT": fake.endpointURL])
        _ = try await imds.credentials()
        _ = try await imds.credentials()
        XCTAssertEqual(fake.requests.count, 3, "fetched once")
        await imds.invalidate()
        _ = try await imds.credentials()
        XCTAssertEqual(fake.requests.count, 6)
    }
}

/// Asserts that `body` throws and hands the error's text to `check`.
func XCTAssertThrowsAsync<T>(_ body: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
                             _ check: (String) -> Void) async {
    do {
        _ = try await body()
        XCTFail("expected an error", file: file, line: line)
    } catch {
        check("\(error)")
    }
}
