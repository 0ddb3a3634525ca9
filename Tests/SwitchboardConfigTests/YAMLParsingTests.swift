import OpenAIWire
import SwitchboardConfig
import XCTest

final class YAMLParsingTests: XCTestCase {
    /// Scalars are typed through `requestDefaults`, which keeps values as the YAML gave them.
    private func defaults(_ body: String) throws -> [JSONMember] {
        let config = try load("""
            model_list:
              - model_name: m
                litellm_params:
                  model: openai/m
            \(body.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """)
        return config.deployments[0].params.requestDefaults
    }

    func testScalarTyping() throws {
        let d = try defaults("""
            an_int: 12
            a_float: 0.2
            yes_bool: True
            lower_bool: false
            a_null: null
            tilde: ~
            empty:
            date: 2023-05-15
            preview: 2023-07-01-preview
            quoted_int: "12"
            single_quoted_bool: 'true'
            quoted_null: "null"
            text: hello world
            """)
        XCTAssertEqual(d["an_int"], .int(12))
        XCTAssertEqual(d["a_float"], .double(0.2))
        XCTAssertEqual(d["yes_bool"], .bool(true))
        XCTAssertEqual(d["lower_bool"], .bool(false))
        XCTAssertEqual(d["a_null"], .null)
        XCTAssertEqual(d["tilde"], .null)
        XCTAssertEqual(d["empty"], .null)
        XCTAssertEqual(d["date"], .string("2023-05-15"))
        XCTAssertEqual(d["preview"], .string("2023-07-01-preview"))
        XCTAssertEqual(d["quoted_int"], .string("12"))
        XCTAssertEqual(d["single_quoted_bool"], .string("true"))
        XCTAssertEqual(d["quoted_null"], .string("null"))
        XCTAssertEqual(d["text"], .string("hello world"))
    }

    func testOrderAndNestingAreKept() throws {
        let d = try defaults("""
            zeta: 1
            alpha: {b: 2, a: [1, "x", {c: true}]}
            middle: 3
            """)
        XCTAssertEqual(d.keys, ["zeta", "alpha", "middle"])
        XCTAssertEqual(d["alpha"], .object([
            JSONMember("b", .int(2)),
            JSONMember("a", .array([.int(1), .string("x"), .object([JSONMember("c", .bool(true))])])),
        ]))
    }

    func testMergeKeysApplyWithExplicitKeysWinning() throws {
        let config = try load("""
            base: &base
              model: openai/gpt-4o
              temperature: 0.5
            model_list:
              - model_name: a
                litellm_params:
                  <<: *base
                  temperature: 0.1
            """)
        let params = config.deployments[0].params
        XCTAssertEqual(params.model, "openai/gpt-4o")
        XCTAssertEqual(params.requestDefaults["temperature"], .double(0.1))
    }

    func testSyntaxErrorNamesLineAndColumn() throws {
        let error = try XCTUnwrap(loadError("""
            model_list:
              - model_name: a
                litellm_params: [unclosed
            general_settings: {}
            """))
        XCTAssertEqual(error.path, "")
        XCTAssertTrue(error.message.contains("YAML syntax error at line 4, column"), error.message)
        XCTAssertFalse(error.message.contains("quote"), error.message)
    }

    func testBareStarGetsAQuotingHint() throws {
        let error = try XCTUnwrap(loadError("""
            model_list:
              - model_name: *
                litellm_params:
                  model: openai/*
            """))
        XCTAssertTrue(error.message.contains("line 2"), error.message)
        XCTAssertTrue(error.message.contains("quote it"), error.message)
        XCTAssertTrue(error.message.contains(#""*""#), error.message)
    }

    func testOtherCommonMistakesGetHints() throws {
        let alias = try XCTUnwrap(loadError("model_list:\n  - model_name: *gpt\n"))
        XCTAssertTrue(alias.message.contains("line 2"), alias.message)
        XCTAssertTrue(alias.message.contains("quote it if you meant text"), alias.message)
        let tab = try XCTUnwrap(loadError("model_list:\n\t- model_name: a\n"))
        XCTAssertTrue(tab.message.contains("line 2"), tab.message)
        XCTAssertTrue(tab.message.contains("tabs"), tab.message)
    }

    func testDuplicateKeysAreAnError() throws {
        let error = try XCTUnwrap(loadError("""
            model_list: []
            model_list: []
            """))
        XCTAssertTrue(error.message.contains("duplicate key \"model_list\""), error.message)
        XCTAssertTrue(error.message.contains("line 1"), error.message)
    }

    func testEmptyFileLoadsWithAWarning() throws {
        for text in ["", "\n# only a comment\n"] {
            let config = try load(text)
            XCTAssertTrue(config.deployments.isEmpty)
            XCTAssertEqual(config.warnings.count, 1)
            XCTAssertTrue(config.warnings[0].message.contains("empty"), config.warnings[0].message)
        }
    }

    func testTopLevelMustBeAMapping() throws {
        let list = try XCTUnwrap(loadError("- model_name: a\n  litellm_params: {model: x}\n"))
        XCTAssertTrue(list.message.contains("found a list"), list.message)
        XCTAssertTrue(list.message.contains("model_list:"), list.message)
        let scalar = try XCTUnwrap(loadError("just text\n"))
        XCTAssertTrue(scalar.message.contains("must be a mapping"), scalar.message)
    }
}
