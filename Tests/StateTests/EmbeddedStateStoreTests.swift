import Synchronization
import XCTest
@testable import State

/// The embedded store on a clock the test moves: exact rpm windows, tpm reserve and settle,
/// cooldowns, in-flight counts.
final class EmbeddedStateStoreTests: XCTestCase {
    final class Clock: Sendable {
        let now = Atomic<UInt64>(1_000_000_000_000)
        func advance(seconds: Double) { now.wrappingAdd(UInt64(seconds * 1e9), ordering: .relaxed) }
        var read: @Sendable () -> UInt64 { { [self] in now.load(ordering: .relaxed) } }
    }

    func store(_ limits: [DeploymentLimits], allowedFails: Int = 3, cooldown: Double = 5) -> (EmbeddedStateStore, Clock) {
        let clock = Clock()
        return (EmbeddedStateStore(deployments: limits, cooldown: CooldownPolicy(allowedFails: allowedFails, cooldownSeconds: cooldown), clock: clock.read), clock)
    }

    func admit(_ s: EmbeddedStateStore, _ candidates: [Int], tokens: Int = 1, enforce: Bool = true) -> AdmissionResult {
        s.admitNow(Admission(candidates: candidates, tokens: tokens, enforceLimits: enforce))!
    }

    func testRPMHoldsInEverySixtySecondWindowWithNoBoundaryBurst() {
        let (s, clock) = store([DeploymentLimits(id: "a", rpm: 3, tpm: nil)])
        for _ in 0..<3 {
            guard case .admitted = admit(s, [0]) else { return XCTFail("under the limit") }
            clock.advance(seconds: 10)
        }
        // t = 30 s: three in the window.
        guard case .refused(let r) = admit(s, [0]) else { return XCTFail("at the limit") }
        XCTAssertEqual(r.reason, .rateLimited)
        XCTAssertEqual(r.atRequestLimit, 1)
        XCTAssertEqual(r.retryAfter, 30, accuracy: 0.01, "the oldest leaves the window at t = 60 s")
        clock.advance(seconds: 29.9)
        XCTAssertNil(admit(s, [0]).deploymentAdmitted, "59.9 s after the first: still full (fixed windows would admit here)")
        clock.advance(seconds: 0.1)
        XCTAssertEqual(admit(s, [0]).deploymentAdmitted, 0)
    }

    func testLimitsNotEnforcedOnlyCount() {
        let (s, _) = store([DeploymentLimits(id: "a", rpm: 1, tpm: 10)])
        for _ in 0..<3 { XCTAssertEqual(admit(s, [0], tokens: 50, enforce: false).deploymentAdmitted, 0) }
        XCTAssertEqual(s.loads([0])[0].tokensThisMinute, 150)
    }

    func testTPMReservesTheEstimateAndSettlesTheRealUsage() {
        let (s, clock) = store([DeploymentLimits(id: "a", rpm: nil, tpm: 1000)])
        guard case .admitted(let first) = admit(s, [0], tokens: 600) else { return XCTFail() }
        guard case .refused(let r) = admit(s, [0], tokens: 600) else { return XCTFail("600 + 600 > 1000") }
        XCTAssertEqual(r.atTokenLimit, 1)
        s.settle(Settlement(reservation: first, actualTokens: 100, outcome: .success))
        XCTAssertEqual(s.loads([0])[0].tokensThisMinute, 100)
        XCTAssertNotNil(admit(s, [0], tokens: 600).deploymentAdmitted, "settled to 100: 700 fits")
        clock.advance(seconds: 61)
        XCTAssertEqual(s.loads([0])[0].tokensThisMinute, 0, "a minute later the window is empty")
    }

    func testTheFirstAdmissibleCandidateIsTakenAndInFlightCounted() {
        let (s, _) = store([DeploymentLimits(id: "a", rpm: 1, tpm: nil), DeploymentLimits(id: "b", rpm: nil, tpm: nil)])
        XCTAssertEqual(admit(s, [0, 1]).deploymentAdmitted, 0)
        XCTAssertEqual(admit(s, [0, 1]).deploymentAdmitted, 1, "a is full: b")
        XCTAssertEqual(s.loads([0, 1]).map(\.inFlight), [1, 1])
    }

    func testFailuresPastAllowedFailsAndRateLimitsCoolADeploymentDown() {
        let (s, clock) = store([DeploymentLimits(id: "a", rpm: nil, tpm: nil), DeploymentLimits(id: "b", rpm: nil, tpm: nil)], allowedFails: 1, cooldown: 5)
        func fail(_ d: Int, now: Bool = false, retryAfter: Double? = nil) {
            guard case .admitted(let r) = admit(s, [d]) else { return XCTFail() }
            s.settle(Settlement(reservation: r, actualTokens: nil, outcome: .failure(cooldownNow: now, retryAfter: retryAfter)))
        }
        fail(0)
        XCTAssertEqual(admit(s, [0, 1]).deploymentAdmitted, 0, "one failure is allowed")
        fail(0)
        XCTAssertEqual(admit(s, [0, 1]).deploymentAdmitted, 1, "two: cooling")
        XCTAssertTrue(s.loads([0])[0].coolingDown)
        clock.advance(seconds: 5.1)
        XCTAssertEqual(admit(s, [0, 1]).deploymentAdmitted, 0, "cooled for cooldown_time")
        fail(1, now: true, retryAfter: 20)
        clock.advance(seconds: 10)
        guard case .refused(let r) = admit(s, [1]) else { return XCTFail("a 429 with Retry-After 20 cools for 20 s") }
        XCTAssertEqual(r.reason, .coolingDown)
        XCTAssertEqual(r.retryAfter, 10, accuracy: 0.01)
    }
}

extension AdmissionResult {
    var deploymentAdmitted: Int? {
        if case .admitted(let r) = self { return r.deployment }
        return nil
    }
}

extension EmbeddedStateStoreTests {
    func testLargeRPMLimitsUseBucketsWithTheSameResult() {
        let limit = EmbeddedStateStore.exactRequestLimit + 5
        let (s, clock) = store([DeploymentLimits(id: "a", rpm: limit, tpm: nil)])
        for _ in 0..<limit { XCTAssertNotNil(admit(s, [0]).deploymentAdmitted) }
        guard case .refused(let r) = admit(s, [0]) else { return XCTFail("at the limit") }
        XCTAssertEqual(r.atRequestLimit, 1)
        clock.advance(seconds: 61)
        XCTAssertNotNil(admit(s, [0]).deploymentAdmitted)
    }
}
