import XCTest
@testable import Routing
import SwitchboardConfig

final class ModelRouterTests: XCTestCase {
    func deployment(_ name: String, _ model: String, rpm: Int? = nil, weight: Double? = nil, id: String) -> Deployment {
        var params = LitellmParams(model: model)
        params.rpm = rpm
        params.weight = weight
        return Deployment(modelName: name, params: params, modelInfo: ModelInfo(id: id))
    }

    func testResolveOrderAliasExactThenMostSpecificPattern() {
        var config = GatewayConfig(deployments: [
            deployment("*", "*", id: "any"),
            deployment("openai/*", "openai/*", id: "oa"),
            deployment("openai/gpt-4*", "openai/gpt-4*", id: "oa4"),
            deployment("gpt-4o", "azure/gpt-4o", id: "exact"),
        ])
        config.routerSettings.modelGroupAlias = [("gpt-4", ModelGroupAlias(model: "gpt-4o")), ("hidden", ModelGroupAlias(model: "gpt-4o", hidden: true))]
        let router = ModelRouter(config: config)
        var rng = FastRandom(seed: 1)
        XCTAssertEqual(router.resolve("gpt-4")?.pick(using: &rng).deployment.id, "exact")
        XCTAssertEqual(router.resolve("gpt-4o")?.pick(using: &rng).deployment.id, "exact")
        let specific = router.resolve("openai/gpt-4.1")!.pick(using: &rng)
        XCTAssertEqual(specific.deployment.id, "oa4")
        XCTAssertEqual(specific.model, "openai/gpt-4.1")
        let oa = router.resolve("openai/o3-mini")!.pick(using: &rng)
        XCTAssertEqual(oa.deployment.id, "oa")
        XCTAssertEqual(oa.model, "openai/o3-mini")
        XCTAssertEqual(oa.group, "openai/*")
        XCTAssertEqual(router.resolve("claude-3-haiku")?.pick(using: &rng).model, "claude-3-haiku")
        XCTAssertEqual(router.listedModelNames, ["gpt-4o", "gpt-4"])
    }

    func testUnknownModelWithoutCatchAll() {
        let router = ModelRouter(config: GatewayConfig(deployments: [deployment("a", "openai/a", id: "a")]))
        XCTAssertNil(router.resolve("b"))
    }

    func testWildcardTemplateExpansion() {
        // model_name: "*" with model: openai/* (the seed's multi-organization example)
        let router = ModelRouter(config: GatewayConfig(deployments: [deployment("*", "openai/*", id: "org1")]))
        var rng = FastRandom(seed: 3)
        XCTAssertEqual(router.resolve("gpt-4o")?.pick(using: &rng).model, "openai/gpt-4o")
    }

    func testWeightsPreferWeightThenRpmThenTpm() {
        let a = deployment("g", "openai/a", rpm: 10, weight: 1, id: "a")
        let b = deployment("g", "openai/b", rpm: 1000, weight: 9, id: "b")
        XCTAssertEqual(ModelGroup.weights(for: [a, b]), [1, 9])
        XCTAssertEqual(ModelGroup.weights(for: [deployment("g", "x", rpm: 6, id: "1"), deployment("g", "y", id: "2")]), [6, 0])
        XCTAssertEqual(ModelGroup.weights(for: [deployment("g", "x", id: "1"), deployment("g", "y", id: "2")]), [1, 1])

        let router = ModelRouter(config: GatewayConfig(deployments: [a, b]))
        var rng = FastRandom(seed: 42)
        var counts = ["a": 0, "b": 0]
        for _ in 0..<10_000 { counts[router.resolve("g")!.pick(using: &rng).deployment.id]! += 1 }
        XCTAssertEqual(Double(counts["b"]!) / 10_000, 0.9, accuracy: 0.02)
    }

    func testZeroWeightsFallBackToUniform() {
        let router = ModelRouter(config: GatewayConfig(deployments: [
            deployment("g", "x", weight: 0, id: "1"), deployment("g", "y", weight: 0, id: "2"),
        ]))
        var rng = FastRandom(seed: 7)
        let ids = Set((0..<100).map { _ in router.resolve("g")!.pick(using: &rng).deployment.id })
        XCTAssertEqual(ids, ["1", "2"])
    }
}
