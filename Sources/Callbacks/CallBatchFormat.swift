import NIOCore

/// How a call-logging callback lays out its calls in a request body: an envelope (a JSON
/// array's brackets, OTLP's `ExportTraceServiceRequest` around its spans) with the calls in
/// it, written as they end. A batch's buffer is opened with room in front for the envelope,
/// calls are appended one by one, and the envelope is put around them when the batch is sent
/// (its lengths, in protobuf, depend on what it holds).
protocol CallBatchFormat: Sendable {
    /// Roughly what one call takes (a batch's buffer is reserved for a batch of them).
    var bytesPerCall: Int { get }
    /// What goes between two calls' bytes when batches are joined (`,` in a JSON array).
    var separator: UInt8? { get }
    /// Bytes kept free in front of the calls for the envelope.
    var room: Int { get }
    /// Whether it reads a call's trace id (``LoggedCall/trace``): otherwise the event loop's
    /// call log does not parse one.
    var readsTraceID: Bool { get }
    /// Appends one call (`first`: the batch's first, with no separator before it).
    func write(_ call: LoggedCall, first: Bool, to body: inout ByteBuffer)
    /// Puts the envelope around the calls in `body` (its readable bytes, with ``room`` bytes
    /// free in front of them).
    func close(_ body: inout ByteBuffer)
}

extension CallBatchFormat {
    var readsTraceID: Bool { false }

    /// Makes `body` an empty batch reserved for `calls` calls.
    func open(_ body: inout ByteBuffer, calls: Int) {
        body.clear()
        body.reserveCapacity(room + calls * bytesPerCall + 16)
        body.moveWriterIndex(forwardBy: room)
        body.moveReaderIndex(forwardBy: room)
    }

    /// One request body holding `calls` (tests, and batches made in one go).
    func encode(_ calls: [LoggedCall], into body: inout ByteBuffer) {
        open(&body, calls: calls.count)
        for i in calls.indices { write(calls[i], first: i == 0, to: &body) }
        close(&body)
    }

    /// The calls of several open batches (their readable bytes) in one batch, still to be
    /// closed.
    func join(_ batches: [ByteBuffer], into body: inout ByteBuffer) {
        open(&body, calls: 0)
        body.reserveCapacity(room + batches.reduce(16) { $0 + $1.readableBytes + 1 })
        for (i, b) in batches.enumerated() {
            if i > 0, let separator { body.writeInteger(separator) }
            body.writeImmutableBuffer(b)
        }
    }
}
