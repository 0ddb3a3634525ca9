import XCTest
import Foundation
import OpenAIWire
import SwitchboardTesting

/// Master-key auth, `/v1/models`, `/v1/model/info` and health routes.
final class AuthAndInfoTests: XCTestCase {
    static let yaml = """
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o
              api_key: sk-upstream-secret-value
              api_base: http://127.0.0.1:9/v1
              extra_headers: {"Authorization-Extra": "x", "X-Api-Key": "hdr-secret-value"}
              rpm: 60
            model_info:
              id: gpt4o-primary
              version: 2
              custom_tokenizer: {identifier: "deepseek-ai/DeepSeek-V3-Base", revision: main, auth_token: hf-secret-value}
          - model_name: gpt-4o
            litellm_params: {model: openai/gpt-4o-mini, mock_response: hi}
          - model_name: claude
            litellm_params: {model: openai/claude, mock_response: hi}
          - model_name: "openai/*"
            litellm_params: {model: "openai/*"}
        router_settings:
          model_group_alias: {"gpt-4": "gpt-4o", "secret-alias": {"model": "claude", "hidden": true}}
        general_settings:
          master_key: sk-1234
        """

    func testMasterKeyIsRequiredExceptOnHealthRoutes() async throws {
        let gateway = try await GatewayHarness(yaml: Self.yaml)
        let body = #"{"model":"claude","messages":[{"role":"user","content":"x"}]}"#
        let none = try gateway.request("POST", "/v1/chat/completions", body: body)
        XCTAssertEqual(none.status, 401)
        XCTAssertEqual(try JSONValue.parse(none.body)["error"]?["type"]?.stringValue, "auth_error")
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", headers: [("Authorization", "Bearer sk-wrong")], body: body).status, 401)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", headers: [("Authorization", "Bearer sk-12345")], body: body).status, 401)
        XCTAssertEqual(try gateway.request("GET", "/v1/models").status, 401)
        for header in [("Authorization", "Bearer sk-1234"), ("authorization", "bearer sk-1234"), ("api-key", "sk-1234"), ("x-litellm-api-key", "Bearer sk-1234")] {
            XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", headers: [header], body: body).status, 200, header.0)
        }
        XCTAssertEqual(try gateway.request("GET", "/health/liveliness").status, 200)
        XCTAssertEqual(try gateway.request("GET", "/health/readiness").status, 200)
        await gateway.shutdown()
    }

    func testModelsListsGroupsAndVisibleAliases() async throws {
        let gateway = try await GatewayHarness(yaml: Self.yaml)
        let r = try gateway.request("GET", "/v1/models", headers: [("Authorization", "Bearer sk-1234")])
        XCTAssertEqual(r.status, 200)
        let json = try JSONValue.parse(r.body)
        XCTAssertEqual(json["object"]?.stringValue, "list")
        let ids = json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        XCTAssertEqual(ids, ["gpt-4o", "claude", "gpt-4"])
        XCTAssertEqual(json["data"]?.arrayValue?.first?["object"]?.stringValue, "model")
        // A hidden alias still routes.
        let viaHidden = try gateway.request("POST", "/chat/completions", headers: [("Authorization", "Bearer sk-1234")],
                                            body: #"{"model":"secret-alias","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(viaHidden.status, 200)
        XCTAssertEqual(viaHidden.header("x-litellm-model-group"), "claude")
        await gateway.shutdown()
    }

    func testModelInfoShowsDeploymentsWithoutSecrets() async throws {
        let gateway = try await GatewayHarness(yaml: Self.yaml)
        let r = try gateway.request("GET", "/model/info", headers: [("x-litellm-api-key", "sk-1234")])
        XCTAssertEqual(r.status, 200)
        for secret in ["sk-upstream-secret-value", "hdr-secret-value", "hf-secret-value", "sk-1234"] {
            XCTAssertFalse(r.body.contains(secret), "leaked \(secret): \(r.body)")
        }
        let data = try XCTUnwrap(try JSONValue.parse(r.body)["data"]?.arrayValue)
        XCTAssertEqual(data.count, 4)
        let first = data[0]
        XCTAssertEqual(first["model_name"]?.stringValue, "gpt-4o")
        XCTAssertEqual(first["litellm_params"]?["model"]?.stringValue, "openai/gpt-4o")
        XCTAssertEqual(first["litellm_params"]?["rpm"]?.intValue, 60)
        XCTAssertEqual(first["litellm_params"]?["api_base"]?.stringValue, "http://127.0.0.1:9/v1")
        XCTAssertNil(first["litellm_params"]?["api_key"])
        XCTAssertEqual(first["model_info"]?["id"]?.stringValue, "gpt4o-primary")
        XCTAssertEqual(first["model_info"]?["version"]?.intValue, 2)
        XCTAssertNotNil(data[1]["model_info"]?["id"]?.stringValue, "ids are generated when absent")
        await gateway.shutdown()
    }

    func testKeyIsFoundInAnyOfTheThreeHeadersWhateverTheOthersHold() async throws {
        let gateway = try await GatewayHarness(yaml: Self.yaml)
        let body = #"{"model":"claude","messages":[{"role":"user","content":"x"}]}"#
        let basic = ("Authorization", "Basic dXNlcjpwYXNz")
        for header in [("x-litellm-api-key", "sk-1234"), ("api-key", "sk-1234"), ("x-litellm-api-key", "Bearer sk-1234")] {
            let r = try gateway.request("POST", "/v1/chat/completions", headers: [basic, header], body: body)
            XCTAssertEqual(r.status, 200, "\(header): \(r.body)")
        }
        let both = try gateway.request("POST", "/v1/chat/completions",
                                       headers: [("Authorization", "Bearer sk-1234"), ("api-key", "sk-wrong")], body: body)
        XCTAssertEqual(both.status, 200, "a wrong key in one header does not hide the right one in another")
        let wrong = try gateway.request("POST", "/v1/chat/completions", headers: [basic, ("x-litellm-api-key", "sk-wrong")], body: body)
        XCTAssertEqual(wrong.status, 401)
        XCTAssertTrue(wrong.body.contains("Invalid proxy server token"), wrong.body)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", headers: [basic], body: body).status, 401)
        XCTAssertEqual(try gateway.request("POST", "/v1/chat/completions", headers: [("x-litellm-api-key", "")], body: body).status, 401)
        await gateway.shutdown()
    }

    func testApiBaseCredentialsGoUpstreamAsBasicAuthAndNeverToModelInfo() async throws {
        let upstream = try await FakeOpenAIServer()
        let base = "http://svc-user:p%40ss-SECRET@127.0.0.1:\(upstream.port)/v1?api-version=2024-02-01&sig=SIG-SECRET"
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: behind-proxy
                litellm_params: {model: openai/m, api_base: "\(base)"}
            """, environment: ["OPENAI_API_KEY": "sk-env-default"])
        let r = try gateway.request("POST", "/v1/chat/completions", body: #"{"model":"behind-proxy","messages":[{"role":"user","content":"x"}]}"#)
        XCTAssertEqual(r.status, 200, r.body)
        let sent = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(sent.header("authorization"), "Basic " + Data("svc-user:p@ss-SECRET".utf8).base64EncodedString())
        XCTAssertEqual(sent.header("host"), "127.0.0.1:\(upstream.port)")
        XCTAssertEqual(sent.uri, "/v1/chat/completions?api-version=2024-02-01&sig=SIG-SECRET")
        XCTAssertFalse(r.headers.contains { $0.1.contains("SECRET") }, "response headers: \(r.headers)")

        let info = try gateway.request("GET", "/v1/model/info")
        XCTAssertEqual(info.status, 200)
        XCTAssertFalse(info.body.contains("SECRET"), info.body)
        XCTAssertFalse(info.body.contains("svc-user"), info.body)
        let shown = try JSONValue.parse(info.body)["data"]?.arrayValue?.first?["litellm_params"]?["api_base"]?.stringValue
        XCTAssertEqual(shown, "http://<redacted>@127.0.0.1:\(upstream.port)/v1?api-version=2024-02-01&sig=<redacted>")
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
