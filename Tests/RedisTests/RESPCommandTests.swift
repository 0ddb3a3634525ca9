import CHiredis
import NIOCore
import XCTest
@testable import RedisClient

/// Our RESP command writer must produce exactly the bytes hiredis's own formatter does.
final class RESPCommandTests: XCTestCase {
    private func hiredis(_ args: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        var lengths: [Int] = []
        for a in args {
            bytes.append(contentsOf: a.utf8)
            lengths.append(a.utf8.count)
        }
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { base in
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { n in
                defer { offset += n }
                return (UnsafeRawPointer(base.baseAddress!) + offset).assumingMemoryBound(to: CChar.self)
            }
            var target: UnsafeMutablePointer<CChar>?
            let length = pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { redisFormatCommandArgv(&target, Int32(args.count), argv.baseAddress, $0.baseAddress) }
            }
            defer { redisFreeCommand(target) }
            return Array(UnsafeRawBufferPointer(start: target, count: Int(length)))
        }
    }

    private func ours(_ args: [String]) -> [UInt8] {
        var buffer = ByteBuffer()
        RESPCommand.write(args, to: &buffer)
        return Array(buffer.readableBytesView)
    }

    func testSameBytesAsHiredis() {
        let cases: [[String]] = [
            ["PING"],
            ["SET", "k", ""],
            ["EVALSHA", String(repeating: "a", count: 40), "2", "sb:v1:{d}:r", "sb:v1:{d}:u", "1", "-1", "123456789012"],
            ["SET", "ключ", "値 😀\r\n\u{0}"],
            Array(repeating: "x", count: 12),
            ["APPEND", "k", String(repeating: "y", count: 100_000)],
        ]
        for args in cases { XCTAssertEqual(ours(args), hiredis(args), "\(args.map { $0.prefix(20) })") }
        var g = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let args = (0..<Int.random(in: 1...15, using: &g)).map { _ in
                String(repeating: "z", count: Int.random(in: 0...1500, using: &g))
            }
            XCTAssertEqual(ours(args), hiredis(args))
        }
    }

    func testDecimalLengths() {
        for n in [0, 1, 9, 10, 99, 100, 12345, 1_000_000, Int(Int32.max)] {
            var b = ByteBuffer()
            RESPCommand.writeDecimal(n, to: &b)
            XCTAssertEqual(String(buffer: b), String(n))
        }
    }
}
