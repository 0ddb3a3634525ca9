import Logging
import NIOCore
import NIOPosix
import RedisClient
import Synchronization
import SwitchboardTesting
import XCTest

/// The hiredis-backed client against a real `redis-server`: commands and replies, pipelining,
/// AUTH and SELECT, scripts, deadlines, reconnects.
final class RedisClientTests: XCTestCase {
    static let logger = Logger(label: "redis-client-test")

    func client(_ server: RedisServer, timeout: TimeAmount = .milliseconds(500), _ tweak: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisClient {
        var c = RedisConfiguration(host: "127.0.0.1", port: server.port, password: server.password, callTimeout: timeout)
        tweak(&c)
        return try RedisClient(configuration: c, logger: Self.logger)
    }

    func testCommandsAndEveryReplyType() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = try client(server)
        XCTAssertEqual(try redis.call(["SET", "k", "héllo wörld"]), .status("OK"))
        XCTAssertEqual(try redis.call(["GET", "k"]), .string("héllo wörld"))
        XCTAssertEqual(try redis.call(["GET", "missing"]), .null)
        XCTAssertEqual(try redis.call(["INCRBY", "n", "41"]), .integer(41))
        XCTAssertEqual(try redis.call(["RPUSH", "l", "a", "", "c"]), .integer(3))
        XCTAssertEqual(try redis.call(["LRANGE", "l", "0", "-1"]), .array([.string("a"), .string(""), .string("c")]))
        guard case .error(let message) = try redis.call(["INCR", "k"]) else { return XCTFail("an error reply") }
        XCTAssertTrue(message.hasPrefix("ERR"), message)
        XCTAssertEqual(try redis.call(["PING"]), .status("PONG"), "the connection survives an error reply")
    }

    func testConcurrentCallsArePipelinedOnOneConnectionInOrder() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = try client(server)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let n = 2000
        let replies = try loop.submit { () -> EventLoopFuture<[Int]> in
            var futures: [EventLoopFuture<Int>] = []
            for _ in 0..<n {
                let p = loop.makePromise(of: Int.self)
                redis.send(["INCR", "counter"]) { p.completeWith($0.map { $0.int ?? -1 }.mapError { $0 as any Error }) }
                futures.append(p.futureResult)
            }
            return EventLoopFuture.whenAllSucceed(futures, on: loop)
        }.flatMap { $0 }.wait()
        XCTAssertEqual(replies, Array(1...n), "replies matched to calls in order")
        XCTAssertEqual(server.cli("CLIENT", "LIST").split(separator: "\n").filter { !$0.contains("cmd=client") }.count, 1, "one connection for the loop")
    }

    func testAuthWithPasswordAndUsernameAndDatabaseSelection() throws {
        let server = try RedisServer(password: "s3cret")
        defer { server.stop() }
        let redis = try client(server) { $0.database = 3 }
        XCTAssertEqual(try redis.call(["SET", "where", "db3"]), .status("OK"))
        XCTAssertEqual(server.cli("-n", "3", "GET", "where"), "db3")
        server.cli("ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all")
        let alice = try client(server) { $0.username = "alice"; $0.password = "pw" }
        XCTAssertEqual(try alice.call(["ACL", "WHOAMI"]), .string("alice"))
        let wrong = try client(server) { $0.password = "nope" }
        XCTAssertThrowsError(try wrong.call(["GET", "x"]), "a refused AUTH closes the connection (logged), retried after a backoff")
    }

    func testScriptsRunBySHAAndAreLoadedAgainAfterAFlush() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = try client(server)
        let script = RedisScript("return {KEYS[1], ARGV[1] + 1}")
        for _ in 0..<2 {
            XCTAssertEqual(try redis.eval(script, keys: ["k"], args: ["41"]), .array([.string("k"), .integer(42)]))
            server.cli("SCRIPT", "FLUSH")
        }
        XCTAssertEqual(script.sha1.count, 40)
    }

    func testASlowServerCostsACallItsDeadlineAndOpensTheBreaker() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = try client(server, timeout: .milliseconds(30)) { $0.breakerThreshold = 2; $0.breakerOpenTime = .milliseconds(300) }
        XCTAssertEqual(try redis.call(["PING"]), .status("PONG"))
        server.cli("CLIENT", "PAUSE", "400")
        let started = Date()
        for _ in 0..<2 {
            do {
                _ = try redis.call(["PING"])
                XCTFail("the server sleeps")
            } catch let error as RedisError {
                XCTAssertEqual(error, .timeout)
            }
        }
        do {
            _ = try redis.call(["PING"])
            XCTFail("breaker open")
        } catch let error as RedisError {
            XCTAssertEqual(error, .unavailable("circuit breaker open"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.3, "two deadlines, then at once")
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(try redis.call(["PING"]), .status("PONG"), "closed again after its open time")
    }

    func testReconnectsAfterTheServerRestarts() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = try client(server)
        XCTAssertEqual(try redis.call(["SET", "a", "1"]), .status("OK"))
        server.stop()
        let started = Date()
        for _ in 0..<3 {
            do {
                _ = try redis.call(["PING"])
                XCTFail("the server is down")
            } catch is RedisError {}
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "a down server fails calls fast")
        try server.start()
        let back = ProcessTable.wait(timeout: 5) {
            (try? redis.call(["PING"])) == .status("PONG")
        }
        XCTAssertTrue(back, "reconnected after the backoff")
    }

    func testURLsAreReadWithCredentialsDatabaseAndTLSAndNeverPrintThePassword() {
        let c = RedisConfiguration(url: "rediss://bob:p%40ss@cache.example:6380/2")
        XCTAssertEqual(c?.host, "cache.example")
        XCTAssertEqual(c?.port, 6380)
        XCTAssertEqual(c?.username, "bob")
        XCTAssertEqual(c?.password, "p@ss")
        XCTAssertEqual(c?.database, 2)
        XCTAssertEqual(c?.tls, true)
        XCTAssertEqual(c?.description, "rediss://cache.example:6380/2")
        let plain = RedisConfiguration(url: "redis://:only@10.0.0.1")
        XCTAssertEqual(plain?.password, "only")
        XCTAssertNil(plain?.username)
        XCTAssertEqual(plain?.port, 6379)
        XCTAssertEqual(plain?.tls, false)
        XCTAssertEqual(RedisConfiguration(url: "redis://[::1]:7000")?.host, "::1")
        XCTAssertNil(RedisConfiguration(url: "http://x"))
        XCTAssertNil(RedisConfiguration(url: "redis://h:notaport"))
    }
}

extension RedisClient {
    /// One call, waited for (tests run off the event loops).
    func call(_ args: [String]) throws -> RedisValue {
        try wait { done in send(args, completion: done) }
    }

    func eval(_ script: RedisScript, keys: [String], args: [String]) throws -> RedisValue {
        try wait { done in evaluate(script, keys: keys, args: args, completion: done) }
    }

    func wait(_ start: (@escaping @Sendable (Result<RedisValue, RedisError>) -> Void) -> Void) throws -> RedisValue {
        let result = Mutex<Result<RedisValue, RedisError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        start { r in
            result.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}
