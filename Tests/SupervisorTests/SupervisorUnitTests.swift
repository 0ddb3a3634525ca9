import Foundation
import Supervisor
import XCTest

final class SupervisorUnitTests: XCTestCase {
    func testBackoffDoublesCapsAndResetsAfterAStableRun() {
        var backoff = RestartBackoff()
        let quick = Duration.milliseconds(50)
        XCTAssertEqual(backoff.recordCrash(uptime: quick), .milliseconds(250))
        XCTAssertEqual(backoff.recordCrash(uptime: quick), .milliseconds(500))
        XCTAssertFalse(backoff.isCrashLoop)
        XCTAssertEqual(backoff.recordCrash(uptime: quick), .seconds(1))
        XCTAssertTrue(backoff.isCrashLoop)
        for _ in 0..<20 { _ = backoff.recordCrash(uptime: quick) }
        XCTAssertEqual(backoff.recordCrash(uptime: quick), .seconds(30))
        XCTAssertEqual(backoff.recordCrash(uptime: .seconds(31)), .milliseconds(250), "a long run starts the count afresh")
    }

    func testSnapshotReadsBackTheTextFromAnyOffset() throws {
        let text = String(repeating: "model_list: []  # ünïcode\n", count: 10_000)
        let snapshot = try ConfigSnapshot(text: text)
        XCTAssertEqual(try ConfigSnapshot.read(descriptor: snapshot.descriptor), text)
        XCTAssertEqual(try ConfigSnapshot.read(descriptor: snapshot.descriptor), text, "pread leaves no offset behind")
    }

    func testSecretHandoffIsAnAnonymousSealedMemoryFile() throws {
        let bytes = Array(#"{"OPENAI_KEY":"sk-handoff-\u00fc"}"#.utf8) + Array(repeating: UInt8(ascii: " "), count: 40_000)
        let handoff = try SecretHandoff(bytes: bytes)
        XCTAssertEqual(try SecretHandoff.read(descriptor: handoff.descriptor), bytes)
        XCTAssertEqual(try SecretHandoff.read(descriptor: handoff.descriptor), bytes, "pread leaves no offset behind")
        // Memory, not a file on disk: the descriptor's target is a memfd.
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(handoff.descriptor)")
        XCTAssertTrue(target.hasPrefix("/memfd:switchboard-secrets"), target)
        // Sealed: no one (no worker) can change what the others read.
        XCTAssertEqual(pwrite(handoff.descriptor, "x", 1, 0), -1)
        XCTAssertEqual(errno, EPERM)
        XCTAssertEqual(ftruncate(handoff.descriptor, 1), -1)
        XCTAssertEqual(fcntl(handoff.descriptor, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC)
    }

    func testSpawnedChildGetsExactlyTheListedDescriptors() throws {
        let (mine, theirs) = try WorkerLink.makePair()
        defer { mine.close(); theirs.close() }
        // The child writes to descriptor 4 (the link) and checks that the link's original number
        // was not inherited (every descriptor we open is close-on-exec).
        let script = "echo ready >&4; if [ -e /proc/self/fd/\(theirs.descriptor) ] && [ \(theirs.descriptor) != 4 ]; then echo leaked >&4; fi"
        let pid = try ProcessSpawner.spawn(executable: "/bin/sh", arguments: ["sh", "-c", script], environment: [],
                                           descriptors: [(theirs.descriptor, 4)])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        XCTAssertEqual(status, 0)
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(mine.descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        XCTAssertEqual(String(decoding: buffer[0..<max(0, n)], as: UTF8.self), "ready\n")
    }

    func testListeningSocketReportsItsPortAndRefusesAfterClose() throws {
        let socket = try ListeningSocket(host: "127.0.0.1", port: 0)
        XCTAssertGreaterThan(socket.port, 0)
        socket.close()
        XCTAssertThrowsError(try ListeningSocket(host: "256.1.1.1", port: 0))
    }
}
