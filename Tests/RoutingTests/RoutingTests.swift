import CallModel
import NIOCore
import State
import SwitchboardConfig
import XCTest
@testable import Routing

/// Strategies, and what a call does after each kind of failure.
final class RoutingTests: XCTestCase {
    func config(_ deployments: [(String, String, Int?)], _ settings: (inout GatewayConfig) -> Void = { _ in }) -> GatewayConfig {
        var config = GatewayConfig(deployments: deployments.map { name, id, rpm in
            var p = LitellmParams(model: "openai/\(id)")
            p.rpm = rpm
            return Deployment(modelName: name, params: p, modelInfo: ModelInfo(id: id))
        })
        settings(&config)
        return config
    }

    func store(_ router: ModelRouter) -> EmbeddedStateStore {
        EmbeddedStateStore(deployments: router.deploymentsBySlot.map { DeploymentLimits(id: $0.id, rpm: nil, tpm: nil) }, cooldown: CooldownPolicy())
    }

    func testSimpleShuffleFollowsRPMWeights() {
        let router = ModelRouter(config: config([("m", "small", 100), ("m", "big", 900)]))
        let group = router.resolve("m")!
        let ranking = CandidateRanking(strategy: .simpleShuffle)
        var rng = FastRandom(seed: 7)
        let s = store(router)
        var small = 0
        for _ in 0..<2000 where ranking.rank(group, store: s, stream: false, avoid: [], using: &rng).first == 0 { small += 1 }
        XCTAssertEqual(Double(small) / 2000, 0.10, accuracy: 0.03)
    }

    func testLeastBusyUsageAndLatencyStrategies() {
        let router = ModelRouter(config: config([("m", "a", nil), ("m", "b", nil), ("m", "c", nil)]))
        let group = router.resolve("m")!
        var rng = FastRandom(seed: 3)
        let s = store(router)
        // a: 2 in flight, b: 1, c: 0 (after one finished with much usage and slow).
        for d in [0, 0, 1] { _ = s.admitNow(Admission(candidates: [d], tokens: 10, enforceLimits: true)) }
        guard case .admitted(let onC) = s.admitNow(Admission(candidates: [2], tokens: 5000, enforceLimits: true)) else { return XCTFail() }
        s.settle(Settlement(reservation: onC, actualTokens: 5000, outcome: .success, latencyMilliseconds: 900))
        XCTAssertEqual(CandidateRanking(strategy: .leastBusy).rank(group, store: s, stream: false, avoid: [], using: &rng).first, 2)
        XCTAssertEqual(CandidateRanking(strategy: .usageBased).rank(group, store: s, stream: false, avoid: [], using: &rng).first, 1, "b used the fewest tokens (a 20, c 5000)")
        for (d, ms) in [(0, 100.0), (1, 130.0)] {
            guard case .admitted(let r) = s.admitNow(Admission(candidates: [d], tokens: 1, enforceLimits: true)) else { return XCTFail() }
            s.settle(Settlement(reservation: r, actualTokens: 1, outcome: .success, latencyMilliseconds: ms))
        }
        XCTAssertEqual(CandidateRanking(strategy: .latencyBased).rank(group, store: s, stream: false, avoid: [], using: &rng).first, 0)
        var firsts = Set<Int>()
        for _ in 0..<200 { firsts.insert(CandidateRanking(strategy: .latencyBased, latencyBuffer: 0.5).rank(group, store: s, stream: false, avoid: [], using: &rng)[0]) }
        XCTAssertEqual(firsts, [0, 1], "within the buffer of the best, picks are shared")
        XCTAssertEqual(CandidateRanking(strategy: .leastBusy).rank(group, store: s, stream: false, avoid: [2], using: &rng).last, 2, "a failed deployment goes last")
    }

    static func failure(_ status: Int, _ kind: UpstreamErrorKind, retryAfter: Double? = nil) -> UpstreamFailure {
        .status(UpstreamErrorStatus(status: status, kind: kind, body: ByteBuffer(), retryAfter: retryAfter))
    }

    func testRetriesThenFallbacksEachGroupWithItsOwnRetries() {
        let cfg = config([("a", "a1", nil), ("a", "a2", nil), ("b", "b1", nil), ("c", "c1", nil)]) {
            $0.routerSettings.fallbacks = [FallbackRule(modelGroup: "a", fallbacks: ["missing", "b", "c"])]
            $0.routerSettings.numRetries = 1
        }
        let router = ModelRouter(config: cfg)
        var s = RoutingSession(group: router.resolve("a")!, policy: RouterPolicy(config: cfg))
        let e500 = Self.failure(500, .serverError)
        guard case .retry(let d0) = s.next(after: e500, deployment: 0, resolve: router.resolve) else { return XCTFail("retry") }
        XCTAssertEqual(d0, 0, "a2 is untried: no wait")
        guard case .fallback(let b) = s.next(after: e500, deployment: 1, resolve: router.resolve) else { return XCTFail("fallback") }
        XCTAssertEqual(b.name, "b", "an unknown fallback name is skipped")
        guard case .retry(let d1) = s.next(after: Self.failure(429, .rateLimit, retryAfter: 2), deployment: 2, resolve: router.resolve) else { return XCTFail("b's own retry") }
        XCTAssertEqual(d1, 2, "b's only deployment failed: wait its Retry-After")
        guard case .fallback(let c) = s.next(after: e500, deployment: 2, resolve: router.resolve) else { return XCTFail() }
        XCTAssertEqual(c.name, "c")
        XCTAssertEqual(s.retries, 2)
        XCTAssertEqual(s.fallbacks, 2)
        _ = s.next(after: e500, deployment: 3, resolve: router.resolve)
        guard case .giveUp = s.next(after: e500, deployment: 3, resolve: router.resolve) else { return XCTFail("nothing left") }
    }

    func testFailureKindsChooseTheirFallbackList() {
        let cfg = config([("a", "a1", nil), ("big", "b1", nil), ("safe", "s1", nil), ("other", "o1", nil)]) {
            $0.routerSettings.contextWindowFallbacks = [FallbackRule(modelGroup: "a", fallbacks: ["big"])]
            $0.litellmSettings.contentPolicyFallbacks = [FallbackRule(modelGroup: "a", fallbacks: ["safe"])]
            $0.routerSettings.defaultFallbacks = ["other"]
        }
        let router = ModelRouter(config: cfg)
        let policy = RouterPolicy(config: cfg)
        var s = RoutingSession(group: router.resolve("a")!, policy: policy)
        guard case .fallback(let big) = s.next(after: Self.failure(400, .contextWindowExceeded), deployment: 0, resolve: router.resolve) else { return XCTFail() }
        XCTAssertEqual(big.name, "big", "no retries for a context-window error: straight to its fallbacks")
        s = RoutingSession(group: router.resolve("a")!, policy: policy)
        guard case .fallback(let safe) = s.next(after: Self.failure(400, .contentPolicy), deployment: 0, resolve: router.resolve) else { return XCTFail() }
        XCTAssertEqual(safe.name, "safe")
        s = RoutingSession(group: router.resolve("a")!, policy: policy, retries: 0)
        guard case .fallback(let other) = s.next(after: Self.failure(503, .serverError), deployment: 0, resolve: router.resolve) else { return XCTFail() }
        XCTAssertEqual(other.name, "other", "default_fallbacks when the group has none")
        s = RoutingSession(group: router.resolve("a")!, policy: policy)
        guard case .giveUp = s.next(after: Self.failure(400, .badRequest), deployment: 0, resolve: router.resolve) else { return XCTFail("a bad request is answered as is") }
        s = RoutingSession(group: router.resolve("a")!, policy: policy, retries: 0, requestFallbacks: ["safe"])
        guard case .fallback(let asked) = s.next(after: Self.failure(500, .serverError), deployment: 0, resolve: router.resolve) else { return XCTFail() }
        XCTAssertEqual(asked.name, "safe", "the request's own fallbacks win")
    }
}
