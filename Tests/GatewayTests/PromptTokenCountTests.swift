import Foundation
import OpenAIWire
import XCTest
@testable import Server
import Tokenizers

/// How chat messages and prompts are counted: OpenAI's overhead, content parts, tool calls.
final class PromptTokenCountTests: XCTestCase {
    /// Counts characters, so every expected number is plain to read.
    struct CharacterCounter: TokenCounting {
        func encode(_ text: String) -> [Int] { text.unicodeScalars.map { Int($0.value) } }
        func count(_ text: String) -> Int { text.unicodeScalars.count }
        var kind: TokenizerKind { .openAI }
    }

    func testMessagesCarryOpenAIsOverhead() throws {
        let messages = try XCTUnwrap(JSONValue.parse("""
            [{"role":"system","content":"be brief"},
             {"role":"user","name":"bob","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"42"}]
            """).arrayValue)
        let c = CharacterCounter()
        let system = 3 + 6 + 8
        let user = 3 + 4 + (3 + 1) + 2
        let assistant = 3 + 9 + 1 + 2
        let tool = 3 + 4 + 2 + 2
        XCTAssertEqual(PromptTokenCount.messages(messages, c), 3 + system + user + assistant + tool)
        XCTAssertEqual(PromptTokenCount.messages([], c), 3, "the reply priming")
    }

    func testPrompts() throws {
        let c = CharacterCounter()
        XCTAssertEqual(PromptTokenCount.prompt(.string("hello"), c), 5)
        XCTAssertEqual(PromptTokenCount.prompt(try JSONValue.parse(#"["ab","cde"]"#), c), 5)
        XCTAssertEqual(PromptTokenCount.prompt(try JSONValue.parse("[1,2,3]"), c), 0, "token ids are not text")
    }
}
