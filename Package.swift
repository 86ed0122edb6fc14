// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "backprop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BackpropCore", targets: ["BackpropCore"]),
    ],
    targets: [
        .target(name: "BackpropCore"),
        .target(
            name: "BackpropTestSupport",
            dependencies: ["BackpropCore"],
            path: "Tests/BackpropTestSupport"
        ),
        .testTarget(
            name: "BackpropCoreTests",
            dependencies: ["BackpropCore", "BackpropTestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
