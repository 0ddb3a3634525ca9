import NIOCore
import XCTest
@testable import Server

/// The chunk size line of a streamed answer, written without building a String.
final class ChunkFramingTests: XCTestCase {
    func testChunkSizesAreLowerCaseHexWithoutLeadingZeros() {
        for size in [1, 9, 10, 15, 16, 255, 256, 4095, 4096, 8192, 0x1abc, 1 << 20, Int(UInt32.max)] {
            var out = ByteBuffer()
            HTTPGatewayHandler.writeChunkSize(size, to: &out)
            XCTAssertEqual(out.readString(length: out.readableBytes), String(size, radix: 16) + "\r\n", "\(size)")
        }
    }
}
