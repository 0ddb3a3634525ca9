import Logging
import NIOCore
import NIOPosix
import RedisClient
import SwitchboardTesting
import XCTest
@testable import State

/// The Redis store against a real `redis-server`, with the embedded store's cases (time moves by
/// ageing the stored timestamps, since the scripts read the server's clock), plus what only a
/// shared store has: two workers, leases, Redis going away.
final class RedisStateStoreTests: XCTestCase {
    var server: RedisServer!

    override func setUp() async throws {
        server = try RedisServer()
    }

    override func tearDown() async throws {
        server?.stop()
    }

    func store(_ limits: [DeploymentLimits], allowedFails: Int = 3, cooldown: Double = 5, options: RedisStateStore.Options = .init()) throws -> RedisStateStore {
        let client = try RedisClient(
            configuration: RedisConfiguration(port: server.port, callTimeout: .milliseconds(300)), logger: Logger(label: "redis-store-test"))
        return RedisStateStore(
            deployments: limits, cooldown: CooldownPolicy(allowedFails: allowedFails, cooldownSeconds: cooldown), client: client, options: options,
            logger: Logger(label: "redis-store-test"))
    }

    func admit(_ s: RedisStateStore, _ candidates: [Int], tokens: Int = 1, enforce: Bool = true) async -> AdmissionResult {
        let admission = Admission(candidates: candidates, tokens: tokens, enforceLimits: enforce)
        if let now = s.admitNow(admission) { return now }
        return await withCheckedContinuation { c in s.admit(admission) { c.resume(returning: $0) } }
    }

    /// Moves every stored timestamp `seconds` into the past (whole seconds for usage buckets).
    func age(_ seconds: Double) {
        server.cli("EVAL", Self.ageScript, "0", String(seconds))
    }

    static let ageScript = """
        local d = tonumber(ARGV[1])
        for _, k in ipairs(redis.call('KEYS', 'sb:v1:*')) do
          local kind = string.match(k, ':(%a+)$')
          if kind == 'rpm' or kind == 'lease' then
            local unit = kind == 'rpm' and 1000000 or 1000
            local m = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
            for i = 1, #m, 2 do redis.call('ZADD', k, string.format('%.0f', tonumber(m[i+1]) - d * unit), m[i]) end
          elseif kind == 'use' then
            local h = redis.call('HGETALL', k)
            redis.call('DEL', k)
            for i = 1, #h, 2 do
              if h[i] == 'T' or h[i] == 'R' then
                redis.call('HSET', k, h[i], h[i+1])
              elseif h[i] == 'lo' then
                redis.call('HSET', k, 'lo', string.format('%.0f', tonumber(h[i+1]) - math.floor(d)))
              else
                local r = string.sub(h[i], -1) == 'r'
                local s = tonumber(r and string.sub(h[i], 1, -2) or h[i]) - math.floor(d)
                redis.call('HSET', k, string.format('%.0f', s) .. (r and 'r' or ''), h[i+1])
              end
            end
          elseif kind == 'cool' then
            local left = redis.call('PTTL', k) - d * 1000
            if left <= 0 then redis.call('DEL', k) else redis.call('PEXPIRE', k, math.floor(left)) end
          end
        end
        return 1
        """

    /// Waits for the background refresh to show `condition`.
    func loads(_ s: RedisStateStore, _ d: [Int], until condition: ([DeploymentLoad]) -> Bool) -> [DeploymentLoad] {
        s.startRefreshing(on: MultiThreadedEventLoopGroup.singleton.next())
        _ = ProcessTable.wait(timeout: 2) { condition(s.loads(d)) }
        return s.loads(d)
    }

    func testRPMHoldsInEverySixtySecondWindowWithNoBoundaryBurst() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: 3, tpm: nil)])
        for _ in 0..<3 {
            guard case .admitted = await admit(s, [0]) else { return XCTFail("under the limit") }
            age(10)
        }
        guard case .refused(let r) = await admit(s, [0]) else { return XCTFail("at the limit") }
        XCTAssertEqual(r.reason, .rateLimited)
        XCTAssertEqual(r.atRequestLimit, 1)
        XCTAssertEqual(r.retryAfter, 30, accuracy: 0.2, "the oldest leaves the window at t = 60 s")
        age(29.8)
        let stillFull = await admit(s, [0])
        XCTAssertNil(stillFull.deploymentAdmitted, "59.8 s after the first: still full (fixed windows would admit here)")
        age(0.3)
        let admitted = await admit(s, [0])
        XCTAssertEqual(admitted.deploymentAdmitted, 0)
    }

    func testRPMAboveTheExactLimitIsCountedInSecondBuckets() async throws {
        let rpm = EmbeddedStateStore.exactRequestLimit + 1
        let s = try store([DeploymentLimits(id: "big", rpm: rpm, tpm: nil)])
        server.cli("HSET", "sb:v1:{big}:use", "R", String(rpm - 1))
        let last = await admit(s, [0])
        XCTAssertEqual(last.deploymentAdmitted, 0, "one below the limit")
        guard case .refused(let r) = await admit(s, [0]) else { return XCTFail("at the limit") }
        XCTAssertEqual(r.atRequestLimit, 1)
        XCTAssertEqual(server.cli("EXISTS", "sb:v1:{big}:rpm"), "0", "no sorted set of every admission")
    }

    func testLimitsNotEnforcedOnlyCount() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: 1, tpm: 10)])
        for _ in 0..<3 {
            let r = await admit(s, [0], tokens: 50, enforce: false)
            XCTAssertEqual(r.deploymentAdmitted, 0)
        }
        XCTAssertEqual(loads(s, [0]) { $0[0].tokensThisMinute == 150 }[0].tokensThisMinute, 150)
        XCTAssertEqual(s.loads([0])[0].requestsThisMinute, 3)
    }

    func testTPMReservesTheEstimateAndSettlesTheRealUsage() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: nil, tpm: 1000)])
        guard case .admitted(let first) = await admit(s, [0], tokens: 600) else { return XCTFail() }
        guard case .refused(let r) = await admit(s, [0], tokens: 600) else { return XCTFail("600 + 600 > 1000") }
        XCTAssertEqual(r.atTokenLimit, 1)
        s.settle(Settlement(reservation: first, actualTokens: 100, outcome: .success))
        let fits = await admit(s, [0], tokens: 600)
        XCTAssertNotNil(fits.deploymentAdmitted, "settled to 100: 700 fits")
        XCTAssertEqual(loads(s, [0]) { $0[0].tokensThisMinute == 700 }[0].tokensThisMinute, 700)
        age(61)
        XCTAssertEqual(loads(s, [0]) { $0[0].tokensThisMinute == 0 }[0].tokensThisMinute, 0, "a minute later the window is empty")
    }

    func testTheFirstAdmissibleCandidateIsTakenAndInFlightCounted() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: 1, tpm: nil), DeploymentLimits(id: "b", rpm: nil, tpm: nil)])
        let first = await admit(s, [0, 1])
        let second = await admit(s, [0, 1])
        XCTAssertEqual(first.deploymentAdmitted, 0)
        XCTAssertEqual(second.deploymentAdmitted, 1, "a is full: b")
        XCTAssertEqual(loads(s, [0, 1]) { $0.map(\.inFlight) == [1, 1] }.map(\.inFlight), [1, 1])
        guard case .admitted(let r) = second else { return }
        s.settle(Settlement(reservation: r, actualTokens: nil, outcome: .success, latencyMilliseconds: 120))
        let after = loads(s, [0, 1]) { $0[1].inFlight == 0 && $0[1].latencyMilliseconds > 0 }
        XCTAssertEqual(after.map(\.inFlight), [1, 0], "settled: released")
        XCTAssertEqual(after[1].latencyMilliseconds, 120, "latency shared")
    }

    func testFailuresPastAllowedFailsAndRateLimitsCoolADeploymentDown() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: nil, tpm: nil), DeploymentLimits(id: "b", rpm: nil, tpm: nil)], allowedFails: 1, cooldown: 5)
        func fail(_ d: Int, now: Bool = false, retryAfter: Double? = nil) async {
            guard case .admitted(let r) = await admit(s, [d]) else { return XCTFail() }
            s.settle(Settlement(reservation: r, actualTokens: nil, outcome: .failure(cooldownNow: now, retryAfter: retryAfter)))
        }
        await fail(0)
        var pick = await admit(s, [0, 1])
        XCTAssertEqual(pick.deploymentAdmitted, 0, "one failure is allowed")
        await fail(0)
        pick = await admit(s, [0, 1])
        XCTAssertEqual(pick.deploymentAdmitted, 1, "two: cooling")
        XCTAssertTrue(loads(s, [0]) { $0[0].coolingDown }[0].coolingDown)
        age(5.1)
        pick = await admit(s, [0, 1])
        XCTAssertEqual(pick.deploymentAdmitted, 0, "cooled for cooldown_time")
        await fail(1, now: true, retryAfter: 20)
        age(10)
        guard case .refused(let r) = await admit(s, [1]) else { return XCTFail("a 429 with Retry-After 20 cools for 20 s") }
        XCTAssertEqual(r.reason, .coolingDown)
        XCTAssertEqual(r.cooling, 1)
        XCTAssertEqual(r.retryAfter, 10, accuracy: 0.3)
    }

    func testTwoWorkersShareOneWindowExactly() async throws {
        let limits = [DeploymentLimits(id: "shared", rpm: 5, tpm: nil), DeploymentLimits(id: "tokens", rpm: nil, tpm: 1000)]
        let workers = [try store(limits), try store(limits)]
        var requests = 0, tokens = 0
        for i in 0..<20 {
            if await admit(workers[i % 2], [0]).deploymentAdmitted != nil { requests += 1 }
            if await admit(workers[i % 2], [1], tokens: 100).deploymentAdmitted != nil { tokens += 1 }
        }
        XCTAssertEqual(requests, 5, "rpm 5 for both workers together")
        XCTAssertEqual(tokens, 10, "tpm 1000 / 100 tokens each")
        let keys = Set(server.cli("KEYS", "*").split(separator: "\n").map(String.init))
        XCTAssertTrue(keys.isSuperset(of: ["sb:v1:{shared}:rpm", "sb:v1:{shared}:use", "sb:v1:{tokens}:use"]), "\(keys)")
        XCTAssertTrue(keys.isSubset(of: [
            "sb:v1:{shared}:rpm", "sb:v1:{shared}:use", "sb:v1:{shared}:busy", "sb:v1:{shared}:speed",
            "sb:v1:{tokens}:use", "sb:v1:{tokens}:busy", "sb:v1:{tokens}:speed",
        ]), "hash-tagged, versioned keys: \(keys)")
    }

    func testInFlightCallsOfAWorkerThatStopsPublishingVanish() async throws {
        let options = RedisStateStore.Options(publishedLife: .milliseconds(400))
        let limits = [DeploymentLimits(id: "a", rpm: nil, tpm: nil)]
        let (dying, other) = (try store(limits, options: options), try store(limits, options: options))
        _ = await admit(dying, [0])
        _ = await admit(dying, [0])
        guard case .admitted(let mine) = await admit(other, [0]) else { return XCTFail() }
        dying.startRefreshing(on: MultiThreadedEventLoopGroup.singleton.next())
        XCTAssertEqual(loads(other, [0]) { $0[0].inFlight == 3 }[0].inFlight, 3, "2 published by the other worker + 1 of its own")
        XCTAssertEqual(loads(dying, [0]) { $0[0].inFlight == 3 }[0].inFlight, 3)
        other.settle(Settlement(reservation: mine, actualTokens: nil, outcome: .success, latencyMilliseconds: 30))
        XCTAssertEqual(loads(other, [0]) { $0[0].inFlight == 2 }[0].inFlight, 2, "its own call ended at once")
        XCTAssertEqual(loads(dying, [0]) { $0[0].latencyMilliseconds == 30 }[0].latencyMilliseconds, 30, "the other worker's latency is seen")
        dying.stopRefreshing()
        XCTAssertEqual(loads(other, [0]) { $0[0].inFlight == 0 }[0].inFlight, 0, "the dead worker's calls left with it")
    }

    func testRedisDownFailsOpenToPerWorkerLimitsAndComesBack() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: 2, tpm: nil)])
        guard case .admitted(let viaRedis) = await admit(s, [0]) else { return XCTFail() }
        XCTAssertNotEqual(viaRedis.at & RedisStateStore.redisFlag, 0)
        server.stop()
        let started = Date()
        guard case .admitted(let local) = await admit(s, [0]) else { return XCTFail("fail open") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.35, "within the deadline")
        XCTAssertEqual(local.at & RedisStateStore.redisFlag, 0, "from the embedded store")
        s.settle(Settlement(reservation: local, actualTokens: nil, outcome: .success))
        XCTAssertGreaterThan(s.answersWithoutRedis, 0)
        try server.start()
        let back = ProcessTable.wait(timeout: 5) {
            let sem = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var flagged = false
            s.admit(Admission(candidates: [0], tokens: 1, enforceLimits: true)) { r in
                if case .admitted(let res) = r { flagged = res.at & RedisStateStore.redisFlag != 0 }
                sem.signal()
            }
            sem.wait()
            return flagged
        }
        XCTAssertTrue(back, "back on Redis once it answers")
    }

    func testSettlementsRideWithTheTicksAdmissionsOrGoAlone() throws {
        let s = try store([DeploymentLimits(id: "a", rpm: nil, tpm: 1000)])
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        server.cli("CONFIG", "SET", "slowlog-log-slower-than", "0")
        server.cli("CONFIG", "SET", "slowlog-max-len", "10000")
        func admitOnLoop(_ tokens: Int, settlingFirst: Settlement? = nil) throws -> AdmissionResult {
            let p = loop.makePromise(of: AdmissionResult.self)
            loop.execute {
                if let settlingFirst { s.settle(settlingFirst) }
                let admission = Admission(candidates: [0], tokens: tokens, enforceLimits: true)
                if let now = s.admitNow(admission) { return p.succeed(now) }
                s.admit(admission) { p.succeed($0) }
            }
            return try p.futureResult.wait()
        }
        guard case .admitted(let first) = try admitOnLoop(600) else { return XCTFail() }
        server.cli("SLOWLOG", "RESET")
        // Settled to 100 tokens, then an admission of 600 on the same loop: it carries the
        // settlement, which its script applies before deciding (100 + 600 fits; 600 + 600 not).
        let second = try admitOnLoop(600, settlingFirst: Settlement(reservation: first, actualTokens: 100, outcome: .success, latencyMilliseconds: 80))
        guard case .admitted(let r) = second else { return XCTFail("the settlement was applied first: \(second)") }
        // A settlement no admission follows goes on its own.
        XCTAssertEqual(Int(server.cli("PTTL", "sb:v1:{a}:use")) ?? 0, 61000, accuracy: 1100, "the window's expiry is set")
        loop.execute { s.settle(Settlement(reservation: r, actualTokens: 50, outcome: .success, latencyMilliseconds: 40, timeToFirstTokenMilliseconds: 10)) }
        XCTAssertTrue(ProcessTable.wait(timeout: 2) { self.server.cli("HGET", "sb:v1:{a}:use", "T") == "150" }, "100 + 50")
        let load = loads(s, [0]) { $0[0].timeToFirstTokenMilliseconds > 0 }[0]
        XCTAssertEqual(load.inFlight, 0, "both calls ended")
        XCTAssertEqual(load.latencyMilliseconds, 72, accuracy: 0.01, "80, then 80 + 0.2 × (40 − 80)")
        XCTAssertEqual(load.timeToFirstTokenMilliseconds, 10, accuracy: 0.01, "the first TTFT")
        let log = server.cli("SLOWLOG", "GET", "10000").split(separator: "\n").map(String.init)
        XCTAssertEqual(log.filter { $0 == RedisScripts.batch.sha1 }.count, 2, "two calls: the first settlement rode on the admission, the second went alone")
        // Failures are not held back: cooldowns must be seen at once.
        let failing = try admitOnLoop(1)
        guard case .admitted(let f) = failing else { return XCTFail() }
        loop.execute { s.settle(Settlement(reservation: f, actualTokens: nil, outcome: .failure(cooldownNow: true, retryAfter: nil))) }
        XCTAssertTrue(ProcessTable.wait(timeout: 1) { self.server.cli("EXISTS", "sb:v1:{a}:cool") == "1" })
    }

    func testOneTicksAdmissionsAndSettlementsGoInOneCallDecidedInOrder() async throws {
        // a: exact window of 3; b: second buckets (rpm above the exact limit) with 4 left;
        // c: 1000 tokens. 11 admissions made in one tick on one loop.
        let big = EmbeddedStateStore.exactRequestLimit + 10
        let s = try store([DeploymentLimits(id: "a", rpm: 3, tpm: nil), DeploymentLimits(id: "b", rpm: big, tpm: nil), DeploymentLimits(id: "c", rpm: nil, tpm: 1000)])
        server.cli("HSET", "sb:v1:{b}:use", "R", String(big - 4))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        guard case .admitted(let held) = await admit(s, [2], tokens: 900) else { return XCTFail("900 of 1000 tokens") }
        server.cli("CONFIG", "SET", "slowlog-log-slower-than", "0")
        server.cli("SLOWLOG", "RESET")
        let results = try await loop.flatSubmit { () -> EventLoopFuture<[AdmissionResult]> in
            // Settled first (900 → 200 tokens), so 800 more fit on c in the same call.
            s.settle(Settlement(reservation: held, actualTokens: 200, outcome: .success, latencyMilliseconds: 50))
            var futures: [EventLoopFuture<AdmissionResult>] = []
            for _ in 0..<8 {
                let p = loop.makePromise(of: AdmissionResult.self)
                s.admit(Admission(candidates: [0, 1], tokens: 1, enforceLimits: true)) { p.succeed($0) }
                futures.append(p.futureResult)
            }
            for tokens in [500, 300, 1] {
                let p = loop.makePromise(of: AdmissionResult.self)
                s.admit(Admission(candidates: [2], tokens: tokens, enforceLimits: true)) { p.succeed($0) }
                futures.append(p.futureResult)
            }
            return EventLoopFuture.whenAllSucceed(futures, on: loop)
        }.get()
        XCTAssertEqual(results.map(\.deploymentAdmitted), [0, 0, 0, 1, 1, 1, 1, nil, 2, 2, nil], "in order: a's 3, b's 4, then none; c: 200 + 500 + 300, not 1 more")
        guard case .refused(let r) = results[7] else { return XCTFail() }
        XCTAssertEqual(r.atRequestLimit, 2)
        XCTAssertEqual(r.retryAfter, 60, accuracy: 0.5, "a's oldest was admitted in this call")
        let log = server.cli("SLOWLOG", "GET", "10000").split(separator: "\n").map(String.init)
        XCTAssertEqual(log.filter { $0 == RedisScripts.batch.sha1 }.count, 1, "one script call for the tick")
        XCTAssertEqual(server.cli("ZCARD", "sb:v1:{a}:rpm"), "3")
        XCTAssertEqual(server.cli("HGET", "sb:v1:{b}:use", "R"), String(big))
        XCTAssertEqual(server.cli("HGET", "sb:v1:{c}:use", "T"), "1000")
        let load = loads(s, [0, 1, 2]) { $0[2].latencyMilliseconds > 0 }
        XCTAssertEqual(load.map(\.inFlight), [3, 4, 2], "the settled call left")
        XCTAssertEqual(load[2].latencyMilliseconds, 50, accuracy: 0.01)
        XCTAssertEqual(load[1].requestsThisMinute, big)
        // A settlement that changes nothing in Redis is not sent.
        guard case .admitted(let one) = results[8] else { return XCTFail() }
        server.cli("SLOWLOG", "RESET")
        try await loop.submit { s.settle(Settlement(reservation: one, actualTokens: nil, outcome: .neutral)) }.get()
        _ = await admit(s, [2], tokens: 1)
        let calls = server.cli("SLOWLOG", "GET", "10000").split(separator: "\n").filter { $0 == RedisScripts.batch.sha1 }
        XCTAssertEqual(calls.count, 1, "only the admission's")
    }

    func testATickWithMoreAdmissionsThanOneCallCarriesIsSplit() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: 600, tpm: nil)])
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        _ = await admit(s, [0])
        server.cli("CONFIG", "SET", "slowlog-log-slower-than", "0")
        server.cli("CONFIG", "SET", "slowlog-max-len", "10000")
        server.cli("SLOWLOG", "RESET")
        let count = RedisBatch.maximumAdmissions + 100
        let results = try await loop.flatSubmit { () -> EventLoopFuture<[AdmissionResult]> in
            let futures = (0..<count).map { _ in
                let p = loop.makePromise(of: AdmissionResult.self)
                s.admit(Admission(candidates: [0], tokens: 1, enforceLimits: true)) { p.succeed($0) }
                return p.futureResult
            }
            return EventLoopFuture.whenAllSucceed(futures, on: loop)
        }.get()
        XCTAssertEqual(results.filter { $0.deploymentAdmitted == 0 }.count, 599, "600 with the first")
        XCTAssertEqual(results.suffix(1).map(\.deploymentAdmitted), [nil], "the last one is over")
        let calls = server.cli("SLOWLOG", "GET", "10000").split(separator: "\n").filter { $0 == RedisScripts.batch.sha1 }
        XCTAssertEqual(calls.count, 2, "a full call, then the rest")
        XCTAssertEqual(server.cli("ZCARD", "sb:v1:{a}:rpm"), "600", "every member its own")
    }

    func testATicksTokenCorrectionsAreSummedAndFailuresKeptApart() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: nil, tpm: 1000)], allowedFails: 0)
        var reservations: [Reservation] = []
        for _ in 0..<4 {
            guard case .admitted(let r) = await admit(s, [0], tokens: 100) else { return XCTFail() }
            reservations.append(r)
        }
        XCTAssertEqual(server.cli("HGET", "sb:v1:{a}:use", "T"), "400")
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        try await loop.submit { [reservations] in
            for r in reservations.dropLast() { s.settle(Settlement(reservation: r, actualTokens: 10, outcome: .success)) }
            s.settle(Settlement(reservation: reservations[3], actualTokens: 40, outcome: .failure(cooldownNow: false, retryAfter: nil)))
        }.get()
        XCTAssertTrue(ProcessTable.wait(timeout: 2) { self.server.cli("HGET", "sb:v1:{a}:use", "T") == "70" }, "3 × 10 + 40")
        let second = String((reservations[0].at & ~RedisStateStore.redisFlag) / 1_000_000_000)
        let buckets = (reservations.map { String(($0.at & ~RedisStateStore.redisFlag) / 1_000_000_000) }).allSatisfy { $0 == second }
        if buckets { XCTAssertEqual(server.cli("HGET", "sb:v1:{a}:use", second), "70") }
        XCTAssertTrue(ProcessTable.wait(timeout: 2) { self.server.cli("EXISTS", "sb:v1:{a}:cool") == "1" }, "the failure (allowed_fails 0) cools it")
    }

    func testRedisDownFailsClosedWhenAsked() async throws {
        let s = try store([DeploymentLimits(id: "a", rpm: nil, tpm: nil)], options: .init(failClosed: true))
        server.stop()
        guard case .refused(let r) = await admit(s, [0]) else { return XCTFail("fail closed") }
        XCTAssertEqual(r.reason, .unavailable)
    }
}

extension AdmissionResult {
    var deploymentAdmitted: Int? {
        if case .admitted(let r) = self { return r.deployment }
        return nil
    }
}
