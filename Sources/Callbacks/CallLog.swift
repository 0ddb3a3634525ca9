import CallModel
import Logging
import NIOCore
import Synchronization

/// A batch of logged calls, encoded, on its way to a callback's endpoint. A box: the sender
/// takes the bytes out, so the one buffer holding them is its own (writing the envelope into
/// a buffer the queue still referenced would copy the whole batch).
final class CallBatch: Sendable {
    private let content: Mutex<ByteBuffer?>
    let events: Int

    /// `body`: the calls' bytes (readable), with the format's room free in front.
    init(body: ByteBuffer, events: Int) {
        content = Mutex(body)
        self.events = events
    }

    /// The bytes, taken (once).
    func take() -> ByteBuffer {
        content.withLock { $0.take() } ?? ByteBuffer()
    }
}

/// One callback that logs calls (otel, langfuse, generic_api): its format, which calls it
/// logs, its sender, and the batches the event loops are filling for it.
///
/// A call is encoded on the event loop it ended on, at the end of that tick (after the tick's
/// answers are flushed), straight into the loop's open batch: no copy of the record or its
/// bodies is queued, and the bodies are read while they are still in cache. A batch that
/// reaches `batchSize` calls goes to the sender; one that is still filling is collected by the
/// sender's timed flush (`interval`) and at stop. The sender's queue is bounded in calls: a
/// batch that does not fit is dropped and its calls counted.
final class CallLogLane: Sendable {
    let name: String
    let format: any CallBatchFormat
    let onSuccess: Bool
    let onFailure: Bool
    let batchSize: Int
    let sender: BatchingSender<CallBatch>
    /// The loops' open batches.
    let batches: OpenCallBatches

    init(
        settings: BatchingSender<CallBatch>.Settings, client: WebhookClient, logger: Logger,
        hooks: BatchingSender<CallBatch>.Hooks, format: any CallBatchFormat, onSuccess: Bool, onFailure: Bool
    ) {
        name = settings.name
        self.format = format
        self.onSuccess = onSuccess
        self.onFailure = onFailure
        // A batch never holds more calls than the queue does.
        batchSize = max(1, min(settings.batchSize, settings.capacity))
        let batches = OpenCallBatches(format: format, batchSize: batchSize)
        var hooks = hooks
        hooks.collect = { batches.collect() }
        hooks.recycle = { batches.recycle($0) }
        sender = BatchingSender<CallBatch>(
            settings: settings, client: client, logger: logger, hooks: hooks, events: { $0.events },
            encodeInto: { taken, out in batches.requestBody(taken, into: &out) })
        self.batches = batches
    }

    /// Whether the lane logs a call that succeeded (or failed).
    func logs(_ succeeded: Bool) -> Bool { succeeded ? onSuccess : onFailure }

    /// A new open batch, for one event loop (or one writer).
    func openBatch() -> OpenCallBatch { batches.register() }

    /// Writes `calls` (those this lane logs) into `batch`; full batches go to the sender.
    func write(_ calls: [LoggedCall], into batch: OpenCallBatch) {
        calls.withUnsafeBufferPointer { write($0, into: batch) }
    }

    /// The same, for one call.
    func write(_ call: LoggedCall, into batch: OpenCallBatch) {
        withExtendedLifetime(call) { withUnsafePointer(to: call) { write(UnsafeBufferPointer(start: $0, count: 1), into: batch) } }
    }

    /// `calls` stay alive to the end: each is read at +0 (iterating the array, each call was
    /// retained and released, per lane: `counts.sh`).
    private func write(_ calls: UnsafeBufferPointer<LoggedCall>, into batch: OpenCallBatch) {
        var full: [CallBatch] = []
        // Read once: a property read per call copies the existential (a retain and a release).
        let format = self.format
        let onSuccess = self.onSuccess
        let onFailure = self.onFailure
        batch.state.withLock { state in
            for i in calls.indices {
                calls.unretained(i)._withUnsafeGuaranteedRef { call in
                    guard call.record.succeeded ? onSuccess : onFailure else { return }
                    if state.body == nil { state.body = batches.freshBody() }
                    format.write(call, first: state.events == 0, to: &state.body!)
                    state.events += 1
                    if state.events == batchSize {
                        full.append(CallBatch(body: state.body.take()!, events: state.events))
                        state.events = 0
                    }
                }
            }
        }
        for b in full { sender.add(b, events: b.events) }
    }
}

extension UnsafeBufferPointer where Element: AnyObject {
    /// Element `i`, not retained (the buffer's owner keeps it alive).
    @inline(__always)
    func unretained(_ i: Int) -> Unmanaged<Element> {
        UnsafeRawPointer(baseAddress! + i).load(as: Unmanaged<Element>.self)
    }
}

/// A batch being filled by one event loop (locked: the sender collects it when it is due).
final class OpenCallBatch: Sendable {
    struct State {
        var body: ByteBuffer?
        var events = 0
    }
    let state = Mutex(State())
}

/// Every open batch of one lane, and the buffers delivered batches leave for new ones.
final class OpenCallBatches: Sendable {
    let format: any CallBatchFormat
    let batchSize: Int
    private let open = Mutex<[OpenCallBatch]>([])
    private let spares = Mutex<[ByteBuffer]>([])
    /// Kept for reuse: a fresh buffer of a batch's size costs page faults as it is filled.
    private static var maxSpares: Int { 4 }
    private static var maxSpareBytes: Int { 8 << 20 }

    init(format: any CallBatchFormat, batchSize: Int) {
        self.format = format
        self.batchSize = batchSize
    }

    func register() -> OpenCallBatch {
        let batch = OpenCallBatch()
        open.withLock { $0.append(batch) }
        return batch
    }

    /// An empty batch's buffer (a spare one when there is one).
    func freshBody() -> ByteBuffer {
        var body = spares.withLock { $0.popLast() } ?? ByteBuffer()
        format.open(&body, calls: batchSize)
        return body
    }

    /// The open batches that hold calls, taken (the sender's timed flush, and stop).
    func collect() -> [(CallBatch, Int)] {
        let all = open.withLock { $0 }
        var taken: [(CallBatch, Int)] = []
        for batch in all {
            batch.state.withLock { state in
                guard state.events > 0, let body = state.body.take() else { return }
                taken.append((CallBatch(body: body, events: state.events), state.events))
                state.events = 0
            }
        }
        return taken
    }

    /// A delivered batch's buffer, kept for a new batch (``freshBody()``).
    func recycle(_ body: ByteBuffer) {
        guard body.capacity <= Self.maxSpareBytes else { return }
        spares.withLock { if $0.count < Self.maxSpares { $0.append(body) } }
    }

    /// How many delivered buffers wait to be filled again.
    var spareCount: Int { spares.withLock { $0.count } }

    /// The request body of `taken` batches, in `out`: one batch is sent as it is, in its own
    /// buffer; several (partly filled ones, collected together) are joined.
    func requestBody(_ taken: [CallBatch], into out: inout ByteBuffer) {
        if taken.count == 1 {
            out = taken[0].take()
        } else {
            format.join(taken.map { $0.take() }, into: &out)
        }
        format.close(&out)
    }
}

/// The call-log sink of one event loop: a finished call's record waits for the end of the
/// tick (the tick's answers are flushed first), then every lane writes it into its open
/// batch, under one lock per lane per tick. A record given off the loop is written at once.
final class LoopCallLog: CallRecordSink {
    private let loop: any EventLoop
    private let lanes: [(lane: CallLogLane, batch: OpenCallBatch)]
    private var pending: [LoggedCall] = []
    private var scheduled = false
    /// Whether a lane reads the calls' trace ids.
    private let stampsTrace: Bool

    init(loop: any EventLoop, lanes: [CallLogLane]) {
        self.loop = loop
        self.lanes = lanes.map { ($0, $0.openBatch()) }
        stampsTrace = lanes.contains { $0.format.readsTraceID }
        pending.reserveCapacity(64)
    }

    func record(_ r: CallRecord) {
        take(r)
    }

    func take(_ r: consuming CallRecord) {
        // A client that went away is not a call to log (LiteLLM logs none either).
        if case .clientGone? = r.failure { return }
        guard loop.inEventLoop else {
            let call = LoggedCall(r)
            for (lane, batch) in lanes { lane.write(call, into: batch) }
            return
        }
        pending.append(LoggedCall(unstamped: r))
        guard !scheduled else { return }
        scheduled = true
        loop.assumeIsolated().execute { [self] in writePending() }
    }

    private func writePending() {
        scheduled = false
        // One clock read for the tick's calls: they all ended in it.
        let now = LoggedCall.wallClockNow()
        let trace = stampsTrace
        pending.withUnsafeBufferPointer { all in
            for i in all.indices { all.unretained(i)._withUnsafeGuaranteedRef { $0.stamp(now, trace: trace) } }
        }
        for (lane, batch) in lanes { lane.write(pending, into: batch) }
        pending.removeAll(keepingCapacity: true)
    }
}

/// The call-log sink for records that come from any thread (one writer's batches, locked).
final class SharedCallLog: CallRecordSink, Sendable {
    private let lanes: [(lane: CallLogLane, batch: OpenCallBatch)]

    init(lanes: [CallLogLane]) {
        self.lanes = lanes.map { ($0, $0.openBatch()) }
    }

    func record(_ r: CallRecord) {
        if case .clientGone? = r.failure { return }
        let call = LoggedCall(r)
        for (lane, batch) in lanes { lane.write(call, into: batch) }
    }
}
