import Foundation
import SwitchboardTesting
import XCTest

/// The gateway (a real supervisor process and its workers) reading its config from a bucket:
/// S3 through a fake that verifies every Signature V4, GCS through a fake that grants tokens
/// only for a correctly signed service account JWT. Reloads re-fetch; a failing fetch keeps the
/// running generation serving.
final class BucketConfigTests: XCTestCase {
    static func config(_ variant: String) -> String {
        """
        model_list:
          - model_name: plain
            litellm_params: {model: openai/plain, mock_response: "answer \(variant)"}
          - model_name: only-\(variant)
            litellm_params: {model: openai/only, mock_response: "x"}
        """
    }

    var home: String!

    override func setUp() {
        home = ScratchFiles.path("switchboard-bucket")
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    }

    func s3Environment(_ s3: FakeS3Server, key: String = "configs/proxy_config.yaml") -> [String: String] {
        [
            "LITELLM_CONFIG_BUCKET_NAME": "litellm-proxy", "LITELLM_CONFIG_BUCKET_OBJECT_KEY": key,
            "AWS_ACCESS_KEY_ID": s3.verifier.accessKeyID, "AWS_SECRET_ACCESS_KEY": s3.verifier.secretAccessKey,
            "AWS_REGION": s3.region, "AWS_ENDPOINT_URL_S3": s3.endpointURL,
            "HOME": home, "AWS_EC2_METADATA_DISABLED": "true", "SWITCHBOARD_WATCH_CONFIG_SECONDS": "0",
        ]
    }

    func answer(port: Int, model: String) throws -> (status: Int, body: String) {
        let r = try TestHTTPClient(port: port).request("POST", "/v1/chat/completions", body: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#)
        return (r.status, r.body)
    }

    func models(port: Int) throws -> String { try TestHTTPClient(port: port).request("GET", "/v1/models").body }

    func testS3ConfigServesAndSIGHUPRefetchesAndAFailedFetchKeepsServing() async throws {
        let s3 = try await FakeS3Server(region: "eu-west-1")
        s3.put(bucket: "litellm-proxy", key: "configs/proxy_config.yaml", text: Self.config("a"))
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--num_workers", "2", "--host", "127.0.0.1", "--port", String(port)], environment: s3Environment(s3))
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving s3://litellm-proxy/configs/proxy_config.yaml", timeout: 60), gateway.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer a"))
        XCTAssertTrue(try models(port: port).contains("only-a"))

        s3.put(bucket: "litellm-proxy", key: "configs/proxy_config.yaml", text: Self.config("b"))
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving", timeout: 60), gateway.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer b"))
        XCTAssertEqual(try answer(port: port, model: "only-b").status, 200)
        XCTAssertFalse(try models(port: port).contains("only-a"))

        s3.failWith(status: 503, code: "SlowDown")
        s3.put(bucket: "litellm-proxy", key: "configs/proxy_config.yaml", text: Self.config("c"))
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("reload rejected (SIGHUP): cannot fetch s3://litellm-proxy/configs/proxy_config.yaml: S3 answered 503 SlowDown: Injected failure; generation 2 keeps serving", timeout: 30), gateway.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer b"))
        XCTAssertFalse(gateway.output.contains(s3.verifier.secretAccessKey), "no secret in the log")
        // Every request the gateway made verified (a bad signature would have been a 403, never served).
        XCTAssertTrue(s3.requests.allSatisfy { $0.header("authorization")?.contains("/eu-west-1/s3/aws4_request") ?? false })

        s3.stopFailing()
        gateway.signal(SIGHUP)
        XCTAssertTrue(gateway.waitForOutput("generation 3 serving", timeout: 60), gateway.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer c"))
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        await s3.shutdown()
    }

    func testGCSConfigIsPolledAndReloadedOnlyWhenItChanges() async throws {
        let google = try await FakeGoogleServer()
        google.put(bucket: "litellm-proxy", object: "proxy_config.yaml", text: Self.config("a"))
        let keyFile = home + "/sa.json"
        try google.serviceAccountJSON.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let gateway = try GatewayProcess(arguments: ["--num_workers", "1", "--host", "127.0.0.1", "--port", String(port)], environment: [
            "LITELLM_CONFIG_BUCKET_TYPE": "gcs", "LITELLM_CONFIG_BUCKET_NAME": "litellm-proxy", "LITELLM_CONFIG_BUCKET_OBJECT_KEY": "proxy_config.yaml",
            "GOOGLE_APPLICATION_CREDENTIALS": keyFile, "STORAGE_EMULATOR_HOST": "127.0.0.1:\(google.port)",
            "SWITCHBOARD_CONFIG_POLL_SECONDS": "0.2", "HOME": home,
        ])
        XCTAssertTrue(gateway.waitForOutput("Switchboard serving gs://litellm-proxy/proxy_config.yaml", timeout: 60), gateway.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer a"))
        // Unchanged polls (304) reload nothing.
        let media = { google.requests.filter { $0.uri.hasPrefix("/storage/") } }
        XCTAssertTrue(waitUntil { media().count >= 4 }, "the object is polled")
        XCTAssertTrue(media().dropFirst().allSatisfy { $0.uri.contains("ifGenerationNotMatch=") })
        XCTAssertFalse(gateway.output.contains("generation 2"), gateway.output)

        google.put(bucket: "litellm-proxy", object: "proxy_config.yaml", text: Self.config("b"))
        XCTAssertTrue(gateway.waitForOutput("reload (config poll): starting generation 2", timeout: 30), gateway.output)
        XCTAssertTrue(gateway.waitForOutput("generation 2 serving", timeout: 60), gateway.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer b"))

        google.failWith(status: 503, message: "backend unavailable")
        let before = media().count
        XCTAssertTrue(gateway.waitForOutput("reload rejected (config poll): cannot fetch gs://litellm-proxy/proxy_config.yaml: Cloud Storage answered 503: backend unavailable; generation 2 keeps serving", timeout: 30), gateway.output)
        XCTAssertTrue(waitUntil { media().count >= before + 4 }, "polling goes on")
        XCTAssertEqual(gateway.output.components(separatedBy: "Cloud Storage answered 503").count, 2, "a repeated failure is logged once: \(gateway.output)")
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer b"))
        XCTAssertEqual(google.grants, 1, "one token serves every poll")
        gateway.signal(SIGTERM)
        XCTAssertEqual(gateway.waitForExit(), 0, gateway.output)
        await google.shutdown()
    }

    func testWorkerAloneAndCheckConfigReadTheBucket() async throws {
        let s3 = try await FakeS3Server()
        s3.put(bucket: "litellm-proxy", key: "configs/proxy_config.yaml", text: Self.config("w"))
        let port = freeLoopbackPort()
        let worker = try GatewayProcess(arguments: ["worker", "--host", "127.0.0.1", "--port", String(port)], environment: s3Environment(s3))
        XCTAssertTrue(worker.waitForOutput("Switchboard serving s3://litellm-proxy/configs/proxy_config.yaml", timeout: 60), worker.output)
        XCTAssertTrue(try answer(port: port, model: "plain").body.contains("answer w"))
        worker.signal(SIGTERM)
        XCTAssertEqual(worker.waitForExit(), 0, worker.output)

        let check = try GatewayProcess(arguments: ["check-config"], environment: s3Environment(s3))
        XCTAssertEqual(check.waitForExit(), 0, check.output)
        XCTAssertTrue(check.output.contains("config OK (s3://litellm-proxy/configs/proxy_config.yaml): 2 model groups"), check.output)

        let missing = try GatewayProcess(arguments: ["--port", String(freeLoopbackPort())], environment: s3Environment(s3, key: "nope.yaml"))
        XCTAssertEqual(missing.waitForExit(), 1, missing.output)
        XCTAssertTrue(missing.output.contains("config error: cannot fetch s3://litellm-proxy/nope.yaml: S3 answered 404 NoSuchKey: The specified key does not exist."), missing.output)
        await s3.shutdown()
    }

    /// Polls `condition` every 50 ms for up to `timeout` seconds.
    func waitUntil(timeout: TimeInterval = 30, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }
}
