import XCTest
import OpenAIWire
import SwitchboardTesting

/// A config naming unset variables starts; only the calls that need them fail, with an error
/// naming the variable.
final class MissingVariableTests: XCTestCase {
    func testOnlyTheDeploymentsNeedingAnUnsetVariableFail() async throws {
        let upstream = try await FakeOpenAIServer()
        let gateway = try await GatewayHarness(yaml: """
            model_list:
              - model_name: works
                litellm_params: {model: openai/works, api_base: "\(upstream.baseURL)", api_key: os.environ/SET_KEY}
              - model_name: needs-key
                litellm_params: {model: openai/gpt-4o, api_base: "\(upstream.baseURL)", api_key: os.environ/OPENAI_API_KEY}
              - model_name: "team/*"
                litellm_params: {model: "openai/*", api_base: "\(upstream.baseURL)", api_key: os.environ/TEAM_KEY}
              - model_name: mocked
                litellm_params: {model: openai/m, api_key: os.environ/OPENAI_API_KEY, mock_response: "no key needed"}
            """, environment: ["SET_KEY": "sk-set"])
        let body = { (model: String) in #"{"model":"\#(model)","messages":[{"role":"user","content":"x"}]}"# }

        let failed = try gateway.request("POST", "/v1/chat/completions", body: body("needs-key"))
        XCTAssertEqual(failed.status, 500, failed.body)
        let error = try XCTUnwrap(try JSONValue.parse(failed.body)["error"])
        XCTAssertEqual(error["type"]?.stringValue, "internal_server_error")
        XCTAssertEqual(error["code"]?.stringValue, "500")
        XCTAssertEqual(error["message"]?.stringValue,
                       "Deployment 'needs-key' (openai/gpt-4o) cannot be called: environment variable OPENAI_API_KEY is not set "
                        + "(model_list[1].litellm_params.api_key is os.environ/OPENAI_API_KEY). Set it in Switchboard's environment and restart.")
        XCTAssertTrue(upstream.requests.isEmpty, "nothing was sent upstream without the key")

        let wildcard = try gateway.request("POST", "/v1/chat/completions", body: body("team/gpt-4o-mini"))
        XCTAssertEqual(wildcard.status, 500, wildcard.body)
        XCTAssertTrue(wildcard.body.contains("TEAM_KEY"), wildcard.body)

        let works = try gateway.request("POST", "/v1/chat/completions", body: body("works"))
        XCTAssertEqual(works.status, 200, works.body)
        XCTAssertEqual(upstream.requests.count, 1)
        XCTAssertEqual(upstream.requests.last?.header("authorization"), "Bearer sk-set")

        let mocked = try gateway.request("POST", "/v1/chat/completions", body: body("mocked"))
        XCTAssertEqual(mocked.status, 200, "a mock answers without calling the upstream, so it needs no key: \(mocked.body)")

        let models = try gateway.request("GET", "/v1/models")
        XCTAssertTrue(models.body.contains("needs-key"), "the deployment is still listed: \(models.body)")
        await gateway.shutdown()
        await upstream.shutdown()
    }
}
