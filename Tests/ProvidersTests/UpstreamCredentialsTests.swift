import XCTest
import OpenAIWire
@testable import Providers
import SwitchboardConfig

/// Credentials on the way upstream: the provider's key variables.
final class UpstreamCredentialsTests: XCTestCase {
    func deployment(_ model: String, base: String? = nil, key: String? = nil) -> Deployment {
        var p = LitellmParams(model: model)
        p.apiBase = base
        p.apiKey = key
        return Deployment(modelName: "g", params: p, modelInfo: ModelInfo(id: "id"))
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
}
