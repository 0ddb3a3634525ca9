import CallModel
import NIOCore
import Providers
import XCTest
@testable import Server

/// Every transition of one attempt, including failures in each state.
final class AttemptStateMachineTests: XCTestCase {
    func machine(cap: Int = 1 << 20, hideUsage: Bool = false) -> AttemptStateMachine {
        AttemptStateMachine(translator: OpenAIResponseTranslator(hideUsageChunk: hideUsage), maxBodyBytes: cap)
    }

    static let json = UpstreamHead(status: 200, contentKind: .json)
    static let sse = UpstreamHead(status: 200, contentKind: .eventStream)

    func collect(_ m: inout AttemptStateMachine, _ bytes: String, into out: inout [(String, Bool)]) -> AttemptStateMachine.Action {
        var emitted: [(String, Bool)] = []
        let action = m.receivedBody(ByteBuffer(string: bytes)) { emitted.append((String(buffer: $0), $1)) }
        out += emitted
        return action
    }

    func testPlainAnswerIsBufferedThenAnswered() {
        var m = machine()
        guard case .sendRequest = m.connected() else { return XCTFail("connected sends") }
        guard case .none = m.connected() else { return XCTFail("a second connect does nothing") }
        _ = m.receivedHead(Self.json)
        var out: [(String, Bool)] = []
        guard case .none = collect(&m, #"{"usage":{"prompt_tokens":2,"#, into: &out) else { return XCTFail() }
        guard case .none = collect(&m, #""completion_tokens":3}}"#, into: &out) else { return XCTFail() }
        XCTAssertTrue(out.isEmpty, "a plain answer is not emitted piecewise")
        guard case .answer(200, let body) = m.receivedEnd(emit: { _, _ in XCTFail() }) else { return XCTFail("answer") }
        XCTAssertEqual(String(buffer: body), #"{"usage":{"prompt_tokens":2,"completion_tokens":3}}"#)
        XCTAssertEqual(m.translator.usage, TokenUsage(promptTokens: 2, completionTokens: 3))
        XCTAssertTrue(m.isFinished)
        guard case .none = m.failed(ConnectionFailure(.reset, "late"), beforeResponse: false) else { return XCTFail("finished ignores failures") }
    }

    func testErrorStatusIsBufferedAndClassified() {
        var m = machine()
        _ = m.connected()
        _ = m.receivedHead(UpstreamHead(status: 400, contentKind: .json, retryAfter: nil))
        var out: [(String, Bool)] = []
        _ = collect(&m, #"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#, into: &out)
        guard case .fail(.status(let s), beforeFirstByte: true) = m.receivedEnd(emit: { _, _ in }) else { return XCTFail("status failure") }
        XCTAssertEqual(s.kind, .contextWindowExceeded)
        XCTAssertEqual(UpstreamFailure.status(s).fallback, .contextWindow)
        XCTAssertFalse(UpstreamFailure.status(s).isRetryable)

        var limited = machine()
        _ = limited.connected()
        _ = limited.receivedHead(UpstreamHead(status: 429, retryAfter: 2))
        guard case .fail(.status(let r), _) = limited.receivedEnd(emit: { _, _ in }) else { return XCTFail() }
        XCTAssertEqual(r.kind, .rateLimit)
        XCTAssertEqual(r.retryAfter, 2)
        XCTAssertTrue(UpstreamFailure.status(r).isRetryable)
    }

    func testBodyOverTheCapFails() {
        var m = machine(cap: 10)
        _ = m.connected()
        _ = m.receivedHead(Self.json)
        var out: [(String, Bool)] = []
        guard case .none = collect(&m, "12345", into: &out) else { return XCTFail() }
        guard case .fail(.bodyTooLarge(10), beforeFirstByte: true) = collect(&m, "678901", into: &out) else { return XCTFail("cap") }
        XCTAssertTrue(m.isFinished)
    }

    func testStreamEmitsWholeEventsAndMarksTheFirst() {
        var m = machine()
        _ = m.connected()
        _ = m.receivedHead(Self.sse)
        var out: [(String, Bool)] = []
        _ = collect(&m, "data: {\"a\"", into: &out)
        XCTAssertTrue(out.isEmpty, "half an event is not a first byte")
        XCTAssertFalse(m.hasEmitted)
        _ = collect(&m, ":1}\n\ndata: {\"b\":2}\n\n", into: &out)
        XCTAssertEqual(out.map(\.0), ["data: {\"a\":1}\n\ndata: {\"b\":2}\n\n"])
        XCTAssertEqual(out.map(\.1), [true])
        _ = collect(&m, "data: [DONE]\n\n", into: &out)
        XCTAssertEqual(out.last?.1, false)
        guard case .streamEnded(emitted: true) = m.receivedEnd(emit: { _, _ in }) else { return XCTFail() }
    }

    func testFailuresInEachState() {
        // connecting
        var m = machine()
        guard case .fail(.connection(let c), beforeFirstByte: true) = m.failed(ConnectionFailure(.refused, "refused"), beforeResponse: true) else { return XCTFail() }
        XCTAssertEqual(c.kind, .refused)
        // awaiting the head
        m = machine()
        _ = m.connected()
        guard case .fail(.connection, beforeFirstByte: true) = m.failed(ConnectionFailure(.closed, "closed"), beforeResponse: true) else { return XCTFail() }
        // buffering
        m = machine()
        _ = m.connected()
        _ = m.receivedHead(Self.json)
        guard case .fail(.interrupted, beforeFirstByte: true) = m.failed(ConnectionFailure(.reset, "reset"), beforeResponse: false) else { return XCTFail() }
        // streaming, before and after the first event
        m = machine()
        _ = m.connected()
        _ = m.receivedHead(Self.sse)
        guard case .fail(.interrupted, beforeFirstByte: true) = m.failed(ConnectionFailure(.reset, "reset"), beforeResponse: false) else { return XCTFail() }
        m = machine()
        _ = m.connected()
        _ = m.receivedHead(Self.sse)
        var out: [(String, Bool)] = []
        _ = collect(&m, "data: {}\n\n", into: &out)
        guard case .fail(.interrupted, beforeFirstByte: false) = m.failed(ConnectionFailure(.reset, "reset"), beforeResponse: false) else { return XCTFail() }
        // malformed
        m = machine()
        _ = m.connected()
        guard case .fail(.malformed, beforeFirstByte: true) = m.malformed("bad status line") else { return XCTFail() }
        // an end before any head
        m = machine()
        _ = m.connected()
        guard case .fail(.malformed, _) = m.receivedEnd(emit: { _, _ in }) else { return XCTFail() }
        // cancelled: everything after is ignored
        m = machine()
        _ = m.connected()
        m.cancel()
        guard case .none = m.receivedHead(Self.json), case .none = m.receivedEnd(emit: { _, _ in }) else { return XCTFail() }
    }
}

/// Every transition of a call.
final class CallStateMachineTests: XCTestCase {
    func testPlainCallAnswersOnce() {
        var m = CallStateMachine()
        XCTAssertEqual(m.start(), .startAttempt(.first))
        XCTAssertEqual(m.start(), .none)
        XCTAssertEqual(m.answered(), .writeAnswer)
        XCTAssertEqual(m.answered(), .none, "the head is written exactly once")
        XCTAssertEqual(m.attemptFailed(retry: .retry), .none)
        XCTAssertEqual(m.deadlinePassed(), .none)
        XCTAssertEqual(m.clientGone(), .none)
        XCTAssertTrue(m.isDone)
    }

    func testStreamHeadWaitsForTheFirstBytesAndIsNeverSwitched() {
        var m = CallStateMachine()
        _ = m.start()
        XCTAssertEqual(m.firstStreamBytes(), .writeStreamHead)
        XCTAssertEqual(m.firstStreamBytes(), .none)
        XCTAssertEqual(m.attemptFailed(retry: .retry), .endStreamWithError, "after the first byte a failure ends the stream")
        XCTAssertEqual(m.state, .done)

        var ended = CallStateMachine()
        _ = ended.start()
        _ = ended.firstStreamBytes()
        XCTAssertEqual(ended.streamEnded(), .endStream)

        var empty = CallStateMachine()
        _ = empty.start()
        XCTAssertEqual(empty.streamEnded(), .writeStreamHead, "an empty stream still gets its head")
    }

    func testFailuresBeforeTheFirstByteMayRetry() {
        var m = CallStateMachine()
        _ = m.start()
        XCTAssertEqual(m.attemptFailed(retry: .staleConnection), .startAttempt(.staleConnection))
        XCTAssertEqual(m.state, .waiting(attempts: 2))
        XCTAssertEqual(m.attemptFailed(retry: nil), .writeFailure)
        XCTAssertTrue(m.isDone)
    }

    func testDeadlineAndClientGoneInEachState() {
        var waiting = CallStateMachine()
        _ = waiting.start()
        XCTAssertEqual(waiting.deadlinePassed(), .writeFailure)

        var streaming = CallStateMachine()
        _ = streaming.start()
        _ = streaming.firstStreamBytes()
        XCTAssertEqual(streaming.deadlinePassed(), .endStreamWithError)

        for prepare in [{ (m: inout CallStateMachine) in }, { _ = $0.start() }, { _ = $0.start(); _ = $0.firstStreamBytes() }] {
            var m = CallStateMachine()
            prepare(&m)
            XCTAssertEqual(m.clientGone(), .abandon)
            XCTAssertEqual(m.clientGone(), .none)
            XCTAssertEqual(m.answered(), .none)
            XCTAssertEqual(m.firstStreamBytes(), .none)
        }

        var mock = CallStateMachine()
        XCTAssertEqual(mock.answeredWithoutAttempt(), .writeAnswer)
        XCTAssertEqual(mock.start(), .none)
    }
}
