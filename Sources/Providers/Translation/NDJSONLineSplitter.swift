import CallModel
import NIOCore

/// Splits newline-delimited JSON (`application/x-ndjson`, Ollama's streams) that arrives split
/// anywhere into whole lines. Lines are handed out as slices of what was read; only a line that
/// spans two reads is copied. Blank lines are skipped; a `\r` before the `\n` is dropped.
public struct NDJSONLineSplitter {
    private var pending: ByteBuffer?

    public init() {}

    /// Calls `line` for each complete line in `bytes` (after what was pending), in order.
    public mutating func split(_ bytes: ByteBuffer, line: (ByteBuffer) throws(UpstreamFailure) -> Void) throws(UpstreamFailure) {
        var input: ByteBuffer
        if var p = pending {
            pending = nil
            var bytes = bytes
            p.writeBuffer(&bytes)
            input = p
        } else {
            input = bytes
        }
        while let lf = input.readableBytesView.firstIndex(of: 0x0A) {
            let length = lf - input.readerIndex
            var slice = input.readSlice(length: length)!
            input.moveReaderIndex(forwardBy: 1)
            if slice.readableBytesView.last == 0x0D { slice.moveWriterIndex(to: slice.writerIndex - 1) }
            if !Self.isBlank(slice) { try line(slice) }
        }
        if input.readableBytes > 0 { pending = input }
    }

    /// What is left when the stream ends (a last line without its `\n`), if anything but blanks.
    public mutating func finish() -> ByteBuffer? {
        defer { pending = nil }
        guard let p = pending, !Self.isBlank(p) else { return nil }
        return p
    }

    static func isBlank(_ b: ByteBuffer) -> Bool {
        b.readableBytesView.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }
}
