import CallModel
import NIOCore
import Providers
import XCTest

/// The OpenAI translator and its SSE splitter, fed at every split point.
final class OpenAIResponseTranslatorTests: XCTestCase {
    static func chunk(_ content: String) -> String {
        #"data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\#(content)"}}],"usage":null}"# + "\n\n"
    }
    static let usageChunk = #"data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"completion_tokens_details":{"reasoning_tokens":0}}}"# + "\n\n"
    static let done = "data: [DONE]\n\n"

    /// Feeds `wire` cut at `cuts`; returns what was emitted (joined) and each emitted piece.
    func run(_ wire: String, cuts: [Int], hideUsage: Bool) throws -> (String, [String], OpenAIResponseTranslator) {
        let t = OpenAIResponseTranslator(hideUsageChunk: hideUsage)
        let bytes = Array(wire.utf8)
        var pieces: [String] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            try t.stream(ByteBuffer(bytes: bytes[start..<cut])) { pieces.append(String(buffer: $0)) }
            start = cut
        }
        try t.streamEnd { pieces.append(String(buffer: $0)) }
        return (pieces.joined(), pieces, t)
    }

    func testEveryTwoWaySplitGivesWholeEventsTheUsageAndHidesTheUsageChunk() throws {
        let events = [Self.chunk("Hel"), Self.chunk("lo \\\"usage\\\": {x}"), Self.usageChunk, Self.done]
        let wire = events.joined()
        let visible = [events[0], events[1], events[3]].joined()
        let n = wire.utf8.count
        for cut in 0...n {
            for hide in [true, false] {
                let (out, pieces, t) = try run(wire, cuts: [cut], hideUsage: hide)
                XCTAssertEqual(out, hide ? visible : wire, "cut \(cut) hide \(hide)")
                XCTAssertEqual(t.usage, TokenUsage(promptTokens: 11, completionTokens: 7), "cut \(cut)")
                for p in pieces {
                    XCTAssertTrue(p.hasPrefix("data: "), "cut \(cut): every piece starts an event: \(p)")
                    XCTAssertTrue(p.hasSuffix("\n\n"), "cut \(cut): every piece ends an event")
                }
            }
        }
    }

    func testThreeWaySplitsAndCRLFFraming() throws {
        let wire = [Self.chunk("a"), Self.usageChunk, Self.done].joined().replacingOccurrences(of: "\n\n", with: "\r\n\r\n")
        let n = wire.utf8.count
        for a in stride(from: 0, through: n, by: 3) {
            for b in stride(from: a, through: n, by: 5) {
                let (out, _, t) = try run(wire, cuts: [a, b], hideUsage: true)
                XCTAssertEqual(out, Self.chunk("a").replacingOccurrences(of: "\n\n", with: "\r\n\r\n") + "data: [DONE]\r\n\r\n", "cuts \(a) \(b)")
                XCTAssertEqual(t.usage?.promptTokens, 11)
            }
        }
    }

    func testALastEventWithoutItsBlankLineIsStillDelivered() throws {
        let (out, _, _) = try run(Self.chunk("a") + "data: [DONE]", cuts: [7], hideUsage: true)
        XCTAssertEqual(out, Self.chunk("a") + Self.done)
    }

    func testPlainAnswersPassThroughWithTheirUsage() throws {
        let body = #"{"id":"x","choices":[{"message":{"content":"the \"usage\": {\"prompt_tokens\": 99} is text"}}],"usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}"#
        let t = OpenAIResponseTranslator(hideUsageChunk: false)
        let out = try t.translate(ByteBuffer(string: body))
        XCTAssertEqual(String(buffer: out), body, "relayed untouched")
        XCTAssertEqual(t.usage, TokenUsage(promptTokens: 5, completionTokens: 2))
        let embeddings = OpenAIResponseTranslator(hideUsageChunk: false)
        _ = try embeddings.translate(ByteBuffer(string: #"{"data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}"#))
        XCTAssertEqual(embeddings.usage, TokenUsage(promptTokens: 8, completionTokens: 0))
        let none = OpenAIResponseTranslator(hideUsageChunk: false)
        _ = try none.translate(ByteBuffer(string: #"{"usage":null}"#))
        XCTAssertNil(none.usage)
    }

    func testErrorsAreClassifiedAsLiteLLMDoes() {
        func kind(_ status: Int, _ body: String) -> UpstreamErrorKind {
            OpenAIErrorClassifier.classify(status: status, body: ByteBuffer(string: body))
        }
        XCTAssertEqual(kind(400, #"{"error":{"message":"This model's maximum context length is 4097 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#), .contextWindowExceeded)
        XCTAssertEqual(kind(400, #"{"error":{"message":"Your request was rejected as a result of our safety system.","code":"content_policy_violation"}}"#), .contentPolicy)
        XCTAssertEqual(kind(400, #"{"error":{"message":"The response was filtered","code":"content_filter"}}"#), .contentPolicy)
        XCTAssertEqual(kind(429, #"{"error":{"message":"Rate limit reached"}}"#), .rateLimit)
        XCTAssertEqual(kind(401, "nope"), .authentication)
        XCTAssertEqual(kind(404, ""), .notFound)
        XCTAssertEqual(kind(400, #"{"error":"bad input"}"#), .badRequest)
        XCTAssertEqual(kind(503, "<html>down</html>"), .serverError)
        XCTAssertEqual(kind(418, ""), .other)
    }
}
