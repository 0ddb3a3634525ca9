import XCTest
import OpenAIWire
@testable import Providers
import SwitchboardConfig

/// Credentials on the way upstream: `user:password@` in an `api_base`, the provider's key
/// variables, and deployments whose config names unset variables.
final class UpstreamCredentialsTests: XCTestCase {
    func deployment(_ model: String, base: String? = nil, key: String? = nil, missing: [MissingVariable] = []) -> Deployment {
        var p = LitellmParams(model: model)
        p.apiBase = base
        p.apiKey = key
        return Deployment(modelName: "g", params: p, modelInfo: ModelInfo(id: "id"), missingVariables: missing)
    }

    func testBase64AndPercentDecoding() {
        XCTAssertEqual(BasicCredentials.base64(Array("".utf8)), "")
        XCTAssertEqual(BasicCredentials.base64(Array("f".utf8)), "Zg==")
        XCTAssertEqual(BasicCredentials.base64(Array("fo".utf8)), "Zm8=")
        XCTAssertEqual(BasicCredentials.base64(Array("foo".utf8)), "Zm9v")
        XCTAssertEqual(BasicCredentials.base64(Array("Aladdin:open sesame".utf8)), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        XCTAssertEqual(BasicCredentials.percentDecoded("p%40ss%3Aw%C3%B6rd%zz%4"), "p@ss:wörd%zz%4")
    }

    func testUserInfoIsParsedAndKeptOutOfTheTarget() throws {
        let url = try XCTUnwrap(UpstreamURL("https://us%40er:p%40ss:word@llm.example.com:8443/v1?x=1"))
        XCTAssertEqual(url.target, UpstreamTarget(tls: true, host: "llm.example.com", port: 8443))
        XCTAssertEqual(url.credentials, BasicCredentials(user: "us@er", password: "p@ss:word"))
        XCTAssertEqual(url.credentials?.authorization, "Basic " + BasicCredentials.base64(Array("us@er:p@ss:word".utf8)))
        XCTAssertEqual(UpstreamURL("http://user@h/v1")?.credentials, BasicCredentials(user: "user", password: ""))
        XCTAssertNil(UpstreamURL("http://@h/v1")?.credentials)
        XCTAssertNil(UpstreamURL("http://h/v1")?.credentials)
    }

    func testApiBaseCredentialsAreSentAsBasicAuth() throws {
        let registry = ProviderRegistry(environment: ["OPENAI_API_KEY": "sk-env"])
        let plan = try registry.plan(deployment("openai/m", base: "http://alice:s%3Acret@10.0.0.5:8000/v1"), model: "openai/m")
        XCTAssertEqual(plan.headers.first(name: "authorization"), "Basic YWxpY2U6czpjcmV0", "alice:s:cret; the URL's credentials win over the provider's key variable")
        XCTAssertEqual(plan.headers.first(name: "host"), "10.0.0.5:8000")
        XCTAssertEqual(plan.apiBase, "http://10.0.0.5:8000/v1", "never shown with credentials")
        XCTAssertEqual(plan.warnings, [])

        let withKey = try registry.plan(deployment("openai/m", base: "http://alice:pw@h/v1", key: "sk-own"), model: "openai/m")
        XCTAssertEqual(withKey.headers[canonicalForm: "authorization"], ["Bearer sk-own"], "an explicit api_key wins")
        XCTAssertEqual(withKey.warnings.count, 1)
        XCTAssertFalse(withKey.warnings[0].contains("pw"), withKey.warnings[0])
    }

    func testProviderVariablesThatCannotBeSentFailThePlanNamingThem() throws {
        let badKey = ProviderRegistry(environment: ["OPENAI_API_KEY": "sk-env\r\nX-Injected: yes"])
        XCTAssertThrowsError(try badKey.plan(deployment("openai/m", base: "http://h/v1"), model: "openai/m")) { error in
            let e = error as? OpenAIError
            XCTAssertEqual(e?.status, 500)
            XCTAssertTrue(e?.message.contains("OPENAI_API_KEY") ?? false, "\(String(describing: e))")
            XCTAssertFalse(e?.message.contains("sk-env") ?? true)
        }
        XCTAssertNoThrow(try badKey.plan(deployment("openai/m", base: "http://h/v1", key: "sk-own"), model: "openai/m"),
                         "the variable is not used when the deployment has its own key")

        let badBase = ProviderRegistry(environment: ["OPENAI_API_BASE": "http://h\r\nX-Injected: yes/v1"])
        XCTAssertThrowsError(try badBase.plan(deployment("openai/m"), model: "openai/m")) { error in
            XCTAssertTrue((error as? OpenAIError)?.message.contains("OPENAI_API_BASE") ?? false, "\(error)")
        }
    }

    func testDeploymentsNeedingUnsetVariablesAreRefusedNamingThem() throws {
        let registry = ProviderRegistry(environment: [:])
        let d = deployment("openai/gpt-4o", base: "http://h/v1", missing: [
            MissingVariable(name: "OPENAI_API_KEY", path: "model_list[1].litellm_params.api_key"),
        ])
        XCTAssertThrowsError(try registry.plan(d, model: "openai/gpt-4o")) { error in
            let e = error as? OpenAIError
            XCTAssertEqual(e?.status, 500)
            XCTAssertEqual(e?.type, "internal_server_error")
            XCTAssertEqual(e?.message, "Deployment 'g' (openai/gpt-4o) cannot be called: environment variable OPENAI_API_KEY is not set (model_list[1].litellm_params.api_key is os.environ/OPENAI_API_KEY). Set it in Switchboard's environment and restart.")
        }
    }
}
