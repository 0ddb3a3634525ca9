import Logging
import NIOCore
import NIOPosix
import RedisClient
import Synchronization
import SwitchboardTesting
import XCTest
@testable import State

/// The Redis store on a real three-master Redis Cluster: two workers admit exactly, candidates
/// on several slots are tried in order, and a slot migration in the middle of a run is
/// followed (`ASK`, `TRYAGAIN`, `MOVED`) without an answer from the fallback.
final class RedisClusterStoreTests: XCTestCase {
    var cluster: RedisCluster!

    override func setUp() async throws {
        cluster = try RedisCluster()
    }

    override func tearDown() async throws {
        cluster?.stop()
    }

    func store(_ limits: [DeploymentLimits]) throws -> RedisStateStore {
        var c = RedisConfiguration(callTimeout: .seconds(10))
        c.clusterNodes = [RedisNodeAddress(host: "127.0.0.1", port: cluster.nodes[1].port)]
        let client = try RedisClient(configuration: c, logger: Logger(label: "redis-cluster-store-test"))
        return RedisStateStore(
            deployments: limits, cooldown: CooldownPolicy(allowedFails: 3, cooldownSeconds: 5), client: client, logger: Logger(label: "redis-cluster-store-test"))
    }

    func admit(_ s: RedisStateStore, _ candidates: [Int], tokens: Int = 1) async -> AdmissionResult {
        await Self.admit(s, candidates, tokens: tokens)
    }

    static func admit(_ s: RedisStateStore, _ candidates: [Int], tokens: Int = 1) async -> AdmissionResult {
        let admission = Admission(candidates: candidates, tokens: tokens, enforceLimits: true)
        if let now = s.admitNow(admission) { return now }
        return await withCheckedContinuation { c in s.admit(admission) { c.resume(returning: $0) } }
    }

    /// Admits on `worker` one at a time, about one a millisecond, until `run` is told to stop
    /// (blocking).
    private static func offer(to worker: RedisStateStore, counting run: RunCounts) {
        while !run.stop.load(ordering: .relaxed) {
            run.offered.add(1, ordering: .relaxed)
            usleep(1000)
            let admission = Admission(candidates: [0], tokens: 1, enforceLimits: true)
            var result = worker.admitNow(admission)
            if result == nil {
                let answer = Mutex<AdmissionResult?>(nil)
                let answered = DispatchSemaphore(value: 0)
                worker.admit(admission) { r in
                    answer.withLock { $0 = r }
                    answered.signal()
                }
                answered.wait()
                result = answer.withLock { $0 }
            }
            if result?.deploymentAdmitted != nil { run.admitted.add(1, ordering: .relaxed) }
        }
    }

    func slot(_ id: String) -> Int { RedisClusterSlot.of(key: "sb:v1:{\(id)}:use") }

    func testTwoWorkersAdmitExactlyAcrossTheClustersNodes() async throws {
        // Ids whose slots are on three different masters.
        var ids: [String] = []
        var owners: Set<Int> = []
        for i in 0..<200 where ids.count < 3 {
            let owner = try XCTUnwrap(cluster.owner(of: slot("d\(i)")))
            if owners.insert(owner).inserted { ids.append("d\(i)") }
        }
        let limits = [
            DeploymentLimits(id: ids[0], rpm: 5, tpm: nil), DeploymentLimits(id: ids[1], rpm: nil, tpm: 1000),
            DeploymentLimits(id: ids[2], rpm: 3, tpm: nil),
        ]
        let workers = [try store(limits), try store(limits)]
        var requests = 0, tokens = 0, spill: [Int] = []
        for i in 0..<20 {
            if await admit(workers[i % 2], [0]).deploymentAdmitted != nil { requests += 1 }
            if await admit(workers[i % 2], [1], tokens: 100).deploymentAdmitted != nil { tokens += 1 }
            if let d = await admit(workers[i % 2], [2, 0]).deploymentAdmitted { spill.append(d) }
        }
        XCTAssertEqual(requests + spill.filter { $0 == 0 }.count, 5, "rpm 5 for both workers together")
        XCTAssertEqual(tokens, 10, "tpm 1000 / 100 tokens each")
        XCTAssertEqual(spill.filter { $0 == 2 }.count, 3, "rpm 3 on the first candidate")
        XCTAssertEqual(Array(spill.prefix(3)), [2, 2, 2], "the first candidate while it has room, then the next slot's")
        guard case .refused(let r) = await admit(workers[0], [2, 0]) else { return XCTFail("both full") }
        XCTAssertEqual(r.atRequestLimit, 2, "the refusals of both slots, added")
        for (n, w) in workers.enumerated() {
            XCTAssertEqual(w.answersWithoutRedis, 0, "worker \(n) always had Redis")
        }
        for (i, id) in ids.enumerated() {
            let owner = try XCTUnwrap(cluster.owner(of: slot(id)))
            XCTAssertEqual(cluster.nodes[owner].cli("EXISTS", "sb:v1:{\(id)}:use"), "1", "deployment \(i)'s keys on its slot's master")
        }
        workers[0].startRefreshing(on: MultiThreadedEventLoopGroup.singleton.next())
        XCTAssertTrue(ProcessTable.wait(timeout: 3) { workers[0].loads([0, 1, 2]).map(\.requestsThisMinute) == [5, 10, 3] },
                      "the loads read from every slot: \(workers[0].loads([0, 1, 2]).map(\.requestsThisMinute))")
    }

    func testASlotMigrationMidRunIsFollowedWithoutErrors() throws {
        let rpm = 2000
        let limits = [DeploymentLimits(id: "moving", rpm: rpm, tpm: nil)]
        let workers = [try store(limits), try store(limits)]
        let s = slot("moving")
        let from = try XCTUnwrap(cluster.owner(of: s))
        let to = (from + 1) % 3
        let run = RunCounts()
        let done = DispatchGroup()
        // Two workers offer admissions, one at a time each, while the slot moves, and then until
        // the window is full and more have been refused.
        for w in workers {
            DispatchQueue.global().async(group: done) { Self.offer(to: w, counting: run) }
        }
        func redirections() -> (moved: Int, ask: Int, tryAgain: Int) {
            let r = workers.map { $0.client.redirections }
            return (r[0].moved + r[1].moved, r[0].ask + r[1].ask, r[0].tryAgain + r[1].tryAgain)
        }
        XCTAssertTrue(ProcessTable.wait(timeout: 10) { run.admitted.load(ordering: .relaxed) >= 10 })
        cluster.beginMigration(slot: s, from: from, to: to)
        XCTAssertLessThan(run.admitted.load(ordering: .relaxed), rpm, "the window was filling when the slot began to move")
        XCTAssertTrue(ProcessTable.wait(timeout: 10) { redirections().tryAgain > 0 }, "keys split by the migration: TRYAGAIN until it ends")
        cluster.migrateKeys(slot: s, from: from, to: to)
        XCTAssertTrue(ProcessTable.wait(timeout: 10) { redirections().ask > 0 }, "the keys moved: ASK to the importing node")
        cluster.finishMigration(slot: s, to: to)
        XCTAssertLessThan(run.admitted.load(ordering: .relaxed), rpm, "the window still filling after the move")
        XCTAssertTrue(ProcessTable.wait(timeout: 30) { run.admitted.load(ordering: .relaxed) >= rpm })
        let offeredAtTheLimit = run.offered.load(ordering: .relaxed)
        XCTAssertTrue(ProcessTable.wait(timeout: 10) { run.offered.load(ordering: .relaxed) > offeredAtTheLimit + 100 })
        run.stop.store(true, ordering: .relaxed)
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        let r = redirections()
        print("slot migration mid-run: \(run.admitted.load(ordering: .relaxed)) of \(run.offered.load(ordering: .relaxed)) admitted; MOVED \(r.moved), ASK \(r.ask), TRYAGAIN \(r.tryAgain)")
        XCTAssertEqual(run.admitted.load(ordering: .relaxed), rpm, "exactly rpm, across the move")
        XCTAssertGreaterThan(r.moved, 0, "after the move: MOVED, and the map corrected")
        for (n, w) in workers.enumerated() {
            XCTAssertEqual(w.answersWithoutRedis, 0, "worker \(n) never fell back")
        }
        XCTAssertEqual(cluster.nodes[to].cli("ZCARD", "sb:v1:{moving}:rpm"), String(rpm), "the window is on the new master")
    }
}

/// What a concurrent run offered and admitted.
private final class RunCounts: Sendable {
    let offered = Atomic<Int>(0)
    let admitted = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}
