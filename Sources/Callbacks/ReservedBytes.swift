/// Bytes written into memory reserved up front: plain stores and `memcpy`s, none of
/// `ByteBuffer`'s per-write bookkeeping. The core of both callback encoders (``JSONOut`` and
/// ``ProtoOut``); the caller reserves at least the bound it computed for what it writes, and
/// ``finish(_:)`` checks that the writes stayed within it.
struct ReservedBytes {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// Bytes written.
    var count = 0

    init(_ memory: UnsafeMutableRawBufferPointer) {
        base = memory.baseAddress!
        capacity = memory.count
    }

    /// The bytes written, after checking they fit (`writer` names the encoder in the message).
    func finish(_ writer: StaticString) -> Int {
        precondition(count <= capacity, "\(writer): wrote \(count) bytes into \(capacity)")
        return count
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        base.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress, bytes.count > 0 else { return }
        (base + count).copyMemory(from: from, byteCount: bytes.count)
        count &+= bytes.count
    }

    /// A constant, as it is.
    @inline(__always)
    mutating func raw(_ s: StaticString) {
        (base + count).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        count &+= s.utf8CodeUnitCount
    }

    mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw($0) }
    }
}

/// An encoder that writes through ``ReservedBytes`` (``JSONOut``, ``ProtoOut``): the memory,
/// the count and the plain writes, once for both.
protocol ReservedBytesWriter {
    var out: ReservedBytes { get set }
    /// Starts writing into `reserved` (the encoder's other state at its start).
    init(reserved: ReservedBytes)
    /// Names the encoder in ``finish()``'s failure.
    static var writerName: StaticString { get }
}

extension ReservedBytesWriter {
    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.init(reserved: ReservedBytes(memory))
    }

    var base: UnsafeMutableRawPointer { out.base }
    var capacity: Int { out.capacity }
    /// Bytes written.
    var count: Int {
        get { out.count }
        set { out.count = newValue }
    }

    /// Checks that the writes stayed within the reserved memory; answers the bytes written.
    func finish() -> Int { out.finish(Self.writerName) }

    @inline(__always) mutating func byte(_ b: UInt8) { out.byte(b) }
    /// A constant, as it is.
    @inline(__always) mutating func raw(_ s: StaticString) { out.raw(s) }
    @inline(__always) mutating func raw(_ bytes: UnsafeRawBufferPointer) { out.raw(bytes) }
    mutating func raw(_ bytes: [UInt8]) { out.raw(bytes) }
}
