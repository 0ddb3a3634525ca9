// swift-tools-version:6.0
import PackageDescription

/// The relay path's targets: in release builds the run-time exclusivity checks are off (they were
/// about 3% of the gateway's CPU under load in `perf`); debug builds, which run the tests, keep
/// them, so an overlapping access is still caught there.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    ],
    targets: [
        // MARK: Layers
        .target(
            name: "OpenAIWire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPath
        ),
        .target(
            name: "CallModel",
            dependencies: ["OpenAIWire", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: hotPath
        ),
        .target(
            name: "SwitchboardConfig",
            dependencies: [
                "OpenAIWire",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM warns about on every build;
        // the headers are in /usr/include and the module map links libhiredis.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "State",
            dependencies: [
                "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .target(
            name: "Metrics",
            dependencies: [.product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: hotPath
        ),
        .target(
            name: "Tokenizers",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: hotPath
        ),
        .target(
            name: "Routing",
            dependencies: ["SwitchboardConfig", "CallModel", "State"],
            swiftSettings: hotPath
        ),
        // Load-time cloud plumbing: SigV4, the AWS credential chain, Google tokens, HTTPFetcher.
        .target(
            name: "CloudAuth",
            dependencies: [
                "OpenAIWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            // AWSSigV4 signs every Bedrock and SageMaker request.
            swiftSettings: hotPath
        ),
        .target(
            name: "Providers",
            dependencies: [
                "OpenAIWire", "SwitchboardConfig", "CallModel", "CloudAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: hotPath
        ),
        .target(
            name: "Server",
            dependencies: [
                "OpenAIWire", "SwitchboardConfig", "Routing", "Providers", "CallModel", "State", "Metrics", "RedisClient", "Tokenizers", "CloudAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .target(
            name: "Callbacks",
            dependencies: [
                "CallModel", "OpenAIWire", "SwitchboardConfig", "CloudAuth", "Metrics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .target(
            name: "SecretManagers",
            dependencies: ["SwitchboardConfig", "OpenAIWire", "CloudAuth", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "ConfigSources",
            dependencies: ["CloudAuth", "OpenAIWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "Supervisor",
            dependencies: ["Metrics", "ConfigSources", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "Server", "SwitchboardConfig", "Supervisor", "Routing", "State", "Callbacks", "Metrics", "ConfigSources",
                "SecretManagers", "Tokenizers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: Test support and tests
        .target(
            name: "SwitchboardTesting",
            dependencies: [
                "OpenAIWire", "Server", "SwitchboardConfig", "CallModel", "Providers", "CloudAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "OpenAIWireTests", dependencies: ["OpenAIWire"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor"]),
        .testTarget(
            name: "SecretManagersTests",
            dependencies: ["SecretManagers", "SwitchboardConfig", "SwitchboardTesting", "OpenAIWire", "CloudAuth"]
        ),
        .testTarget(
            name: "SwitchboardConfigTests",
            dependencies: ["SwitchboardConfig"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "StateTests", dependencies: ["State"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "RedisTests",
            dependencies: [
                "RedisClient", "CHiredis", "State", "SwitchboardTesting", "OpenAIWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RoutingTests", dependencies: ["Routing", "SwitchboardConfig", "CallModel", "State"]),
        .testTarget(name: "ProvidersTests", dependencies: ["Providers", "SwitchboardConfig", "OpenAIWire", "CallModel", "CloudAuth"]),
        .testTarget(
            name: "ConfigSourcesTests",
            dependencies: ["ConfigSources", "CloudAuth", "SwitchboardTesting"]
        ),
        .testTarget(
            name: "CloudAuthTests",
            dependencies: [
                "CloudAuth", "SwitchboardTesting", "OpenAIWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "SwitchboardTesting", "Server", "SwitchboardConfig", "OpenAIWire", "CallModel", "Providers", "Routing", "Callbacks", "Metrics", "Tokenizers", "CloudAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
