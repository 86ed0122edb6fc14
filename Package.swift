// swift-tools-version: 6.2
import PackageDescription

// `BACKPROP_FUZZ=1 swift build --product BackpropFuzz` (.ci/fuzz.sh): this package's own
// modules with libFuzzer's coverage and AddressSanitizer, the dependencies as in any
// debug build, so the fuzzer's build reuses theirs and compiles only these modules again.
let fuzzing = Context.environment["BACKPROP_FUZZ"] == "1"
let fuzzSwift: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []
let fuzzC: [CSetting] = fuzzing ? [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])] : []

let package = Package(
    name: "backprop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BackpropCore", targets: ["BackpropCore"]),
        .library(name: "BackpropServer", targets: ["BackpropServer"]),
        // The Swift client of the HTTP API (issue 13): generated from openapi.yaml, plus a
        // thin hand-written layer. It depends on neither the server nor the core.
        .library(name: "BackpropClient", targets: ["BackpropClient"]),
        .executable(name: "backprop", targets: ["backprop"]),
        .executable(name: "BackpropBenchmarks", targets: ["BackpropBenchmarks"]),
        .executable(name: "BackpropFuzz", targets: ["BackpropFuzz"]),
    ],
    traits: [
        .trait(
            name: "OpenBLAS",
            description: "Matrix products through OpenBLAS's dgemm (Debian: libopenblas-dev) instead of the built-in kernel."
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "CBackpropKernels",
            cSettings: [.define("BP_OPENBLAS", .when(traits: ["OpenBLAS"]))] + fuzzC,
            linkerSettings: [.linkedLibrary("openblas", .when(traits: ["OpenBLAS"]))]
        ),
        // The JSON layer's number conversions: shortest text of a double (Schubfach) and
        // the nearest double of a decimal (Eisel–Lemire).
        .target(
            name: "CBackpropJSON", exclude: ["generate_dtoa_tables.py", "generate_parse_tables.py"], cSettings: fuzzC
        ),
        .target(name: "BackpropCore", dependencies: ["CBackpropKernels"], swiftSettings: fuzzSwift),
        .target(
            name: "BackpropServer",
            dependencies: [
                "BackpropCore",
                "CBackpropKernels",
                "CBackpropJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/Playground")],
            swiftSettings: fuzzSwift
        ),
        // Sources/BackpropClient/Generated is swift-openapi-generator's output, committed
        // (regenerate with `bash .ci/generate-client.sh`; .ci/generators.sh checks it is up
        // to date), so no build runs the generator.
        .target(
            name: "BackpropClient",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "backprop",
            dependencies: [
                "BackpropServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "BackpropBenchmarks",
            dependencies: [
                "BackpropCore", "BackpropServer", "CBackpropKernels", "AllocationCounter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            path: "Benchmarks/Swift"
        ),
        // Counts the benchmark executable's heap allocations (its own malloc); nothing else links it.
        .target(name: "AllocationCounter", path: "Benchmarks/AllocationCounter"),
        // libFuzzer target over request decoding and validation: `bash .ci/fuzz.sh`
        // (TESTING.md, Fuzzing). A plain build makes a stub that only prints how to run it;
        // BACKPROP_FUZZ=1 (above) makes the fuzzer.
        .executableTarget(
            name: "BackpropFuzz",
            dependencies: ["BackpropServer"],
            swiftSettings: fuzzing ? fuzzSwift + [.define("BACKPROP_FUZZ")] : [],
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []
        ),
        .target(
            name: "BackpropTestSupport",
            dependencies: [
                "BackpropCore",
                "BackpropServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/BackpropTestSupport"
        ),
        .testTarget(
            name: "BackpropCoreTests",
            dependencies: ["BackpropCore", "CBackpropKernels", "BackpropTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "BackpropClientTests",
            dependencies: [
                "BackpropClient",
                "BackpropServer",
                "BackpropTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "BackpropServerTests",
            dependencies: [
                "BackpropServer",
                "backprop",
                "BackpropTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
    ]
)
