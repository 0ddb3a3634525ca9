import NIOCore

/// Finds the boundaries of server-sent events (a blank line: `\n\n` or `\r\n\r\n`) in bytes
/// that arrive split anywhere. Whole events are handed out as slices of what was read; only an
/// event that spans two reads is copied, into one buffer.
public struct SSEEventSplitter {
    /// Bytes of an event whose end has not arrived yet.
    private var pending: ByteBuffer?
    /// How far `pending` has been searched already.
    private var searched = 0

    public init() {}

    /// Splits `bytes` into complete events and emits them in maximal runs: `keep` sees each
    /// event, and the events it keeps are handed to `emit` as few contiguous slices as
    /// possible (one per read when all are kept). Each slice ends with a blank line.
    public mutating func split(_ bytes: ByteBuffer, keep: (ByteBuffer) -> Bool, emit: (ByteBuffer) -> Void) {
        var input: ByteBuffer
        if var p = pending {
            pending = nil
            var bytes = bytes
            p.writeBuffer(&bytes)
            input = p
        } else {
            input = bytes
            searched = 0
        }
        // Offsets relative to the reader index; the reader index moves once, at the end.
        var cursor = 0
        var runStart = 0
        while let end = Self.eventEnd(in: input, from: cursor, searched: searched) {
            searched = 0
            let event = input.getSlice(at: input.readerIndex + cursor, length: end - cursor)!
            if !keep(event) {
                if cursor > runStart { emit(input.getSlice(at: input.readerIndex + runStart, length: cursor - runStart)!) }
                runStart = end
            }
            cursor = end
        }
        if cursor > runStart { emit(input.getSlice(at: input.readerIndex + runStart, length: cursor - runStart)!) }
        input.moveReaderIndex(forwardBy: cursor)
        if input.readableBytes > 0 {
            searched = max(0, input.readableBytes - 3)
            pending = input
        } else {
            searched = 0
        }
    }

    /// What is left when the stream ends (an event without its blank line), if anything.
    public mutating func finish() -> ByteBuffer? {
        defer { pending = nil; searched = 0 }
        guard let p = pending, p.readableBytes > 0 else { return nil }
        return p
    }

    /// The offset just past the first event that starts at `start` (its blank line included);
    /// the search begins at `start + searched` (bytes already known to hold no boundary).
    static func eventEnd(in buffer: ByteBuffer, from start: Int, searched: Int) -> Int? {
        buffer.withUnsafeReadableBytes { b -> Int? in
            var i = start + searched
            let n = b.count
            while i < n {
                guard let p = memchr(b.baseAddress! + i, 0x0A, n - i) else { return nil }
                let lf = b.baseAddress!.distance(to: UnsafeRawPointer(p))
                // `\n\n` or `\n\r\n`
                if lf + 1 < n, b[lf + 1] == 0x0A { return lf + 2 }
                if lf + 2 < n, b[lf + 1] == 0x0D, b[lf + 2] == 0x0A { return lf + 3 }
                i = lf + 1
            }
            return nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
