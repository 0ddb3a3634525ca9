import SwitchboardConfig
import XCTest

/// `SWITCHBOARD_*` variables: validated once at start, never a trap later.
final class RuntimeSettingsTests: XCTestCase {
    func testDefaults() throws {
        let settings = try RuntimeSettings(environment: [:])
        XCTAssertEqual(settings, RuntimeSettings())
        XCTAssertEqual(settings.idleTimeoutSeconds, 120)
        XCTAssertEqual(settings.drainSeconds, 30)
        XCTAssertFalse(settings.strictEnvironment)
        XCTAssertEqual(try RuntimeSettings(environment: ["SWITCHBOARD_IDLE_TIMEOUT_SECONDS": "", "SWITCHBOARD_DRAIN_SECONDS": " "]),
                       RuntimeSettings(), "empty means unset")
    }

    func testValidValues() throws {
        let settings = try RuntimeSettings(environment: [
            "SWITCHBOARD_IDLE_TIMEOUT_SECONDS": " 2.5 ", "SWITCHBOARD_DRAIN_SECONDS": "0", "SWITCHBOARD_STRICT_ENV": "1",
        ])
        XCTAssertEqual(settings.idleTimeoutSeconds, 2.5)
        XCTAssertEqual(settings.drainSeconds, 0)
        XCTAssertTrue(settings.strictEnvironment)
        let caps = try RuntimeSettings(environment: ["SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES": "1048576", "SWITCHBOARD_MAX_CONNECTIONS": "100"])
        XCTAssertEqual(caps.maxUpstreamBodyBytes, 1 << 20)
        XCTAssertEqual(caps.maxConnections, 100)
        XCTAssertEqual(RuntimeSettings().configPollSeconds, 0, "bucket polling is off by default")
        XCTAssertEqual(try RuntimeSettings(environment: ["SWITCHBOARD_CONFIG_POLL_SECONDS": "30"]).configPollSeconds, 30)
        for value in ["true", "YES", "on"] {
            XCTAssertTrue(try RuntimeSettings(environment: ["SWITCHBOARD_STRICT_ENV": value]).strictEnvironment, value)
        }
        for value in ["0", "false", "No", "off"] {
            XCTAssertFalse(try RuntimeSettings(environment: ["SWITCHBOARD_STRICT_ENV": value]).strictEnvironment, value)
        }
    }

    func testInvalidValuesNameTheVariable() {
        let cases: [(String, String)] = [
            ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "-1"), ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "0"),
            ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "nan"), ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "inf"),
            ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "1e20"), ("SWITCHBOARD_IDLE_TIMEOUT_SECONDS", "two minutes"),
            ("SWITCHBOARD_DRAIN_SECONDS", "-0.5"), ("SWITCHBOARD_DRAIN_SECONDS", "NaN"), ("SWITCHBOARD_DRAIN_SECONDS", "-inf"),
            ("SWITCHBOARD_DRAIN_SECONDS", "1e300"), ("SWITCHBOARD_STRICT_ENV", "sometimes"),
            ("SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES", "100"), ("SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES", "1.5e6"),
            ("SWITCHBOARD_MAX_CONNECTIONS", "0"), ("SWITCHBOARD_MAX_CONNECTIONS", "-3"), ("SWITCHBOARD_MAX_CONNECTIONS", "lots"),
            ("SWITCHBOARD_CONFIG_POLL_SECONDS", "-1"), ("SWITCHBOARD_CONFIG_POLL_SECONDS", "often"),
        ]
        for (name, value) in cases {
            XCTAssertThrowsError(try RuntimeSettings(environment: [name: value]), "\(name)=\(value)") { error in
                let text = (error as? ConfigError)?.description ?? ""
                XCTAssertTrue(text.hasPrefix("environment variable \(name) must be"), text)
                XCTAssertTrue(text.contains("\"\(value)\""), text)
            }
        }
    }
}
