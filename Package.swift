// swift-tools-version:6.0
import PackageDescription

// Verdict: native Swift text classification with transformer models.
// One target per concern; see docs/Architecture.md for the layout and the targets still to come.
let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Verdict",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Verdict", targets: ["Verdict"]),
        .executable(name: "verdict", targets: ["VerdictCLI"]),
        // The HTTP server, an executable of its own so that `verdict` builds without SwiftNIO and
        // Hummingbird; `verdict serve` runs it.
        .executable(name: "verdict-serve", targets: ["VerdictServeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // `swift package generate-documentation` (DocC); a plugin only, nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .target(name: "VerdictJSON", swiftSettings: settings),
        // No unsafeFlags, so that Verdict can be a versioned dependency: the kernels build at SwiftPM's
        // own optimisation level: -O0 in debug (the README's test command adds -Xcc -O3), -O2 in release (docs/Install.md).
        .target(name: "CVerdictPool"),
        .target(name: "CVerdictKernels", dependencies: ["CVerdictPool"]),
        // Parallel loops on the pool; the tokenizers need them, not the kernels.
        .target(name: "VerdictParallel", dependencies: ["CVerdictPool"], swiftSettings: settings),
        .target(name: "VerdictTensor", dependencies: ["CVerdictKernels", "VerdictParallel"], swiftSettings: settings),
        .target(name: "VerdictProgress", swiftSettings: settings),
        .target(name: "VerdictTokenizers", dependencies: ["VerdictJSON", "VerdictParallel"], swiftSettings: settings),
        .target(name: "VerdictHub", dependencies: ["VerdictJSON", "VerdictProgress", "VerdictTensor"], swiftSettings: settings),
        .target(name: "VerdictModels", dependencies: ["VerdictHub", "VerdictJSON", "VerdictTensor", "VerdictTokenizers"], swiftSettings: settings),
        .target(name: "VerdictDatasets", dependencies: ["VerdictJSON", "VerdictProgress", "VerdictTensor"], swiftSettings: settings),
        .target(name: "VerdictMetrics", dependencies: ["VerdictTensor"], swiftSettings: settings),
        .target(name: "VerdictTraining", dependencies: ["VerdictModels", "VerdictHub", "VerdictTensor", "VerdictTokenizers", "VerdictJSON", "VerdictProgress"], swiftSettings: settings),
        // The bundled default model, a resource so that it travels with the code (docs/Install.md).
        .target(name: "VerdictDefaultModel", resources: [.copy("default-sentiment")], swiftSettings: settings),
        .target(name: "VerdictPipelines", dependencies: ["VerdictDefaultModel", "VerdictModels", "VerdictHub", "VerdictJSON", "VerdictTensor", "VerdictTokenizers"], swiftSettings: settings),
        .target(
            name: "VerdictServer",
            dependencies: ["VerdictPipelines", "VerdictModels", "VerdictHub", "VerdictTensor", "VerdictTokenizers", "VerdictJSON", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: settings
        ),
        .target(name: "Verdict", dependencies: ["VerdictPipelines", "VerdictTokenizers", "VerdictTensor", "VerdictHub", "VerdictModels", "VerdictTraining", "VerdictDatasets", "VerdictMetrics", "VerdictProgress"], swiftSettings: settings),
        // What both executables share: error reporting, the library's enumerations as arguments, --version.
        .target(name: "VerdictCommandSupport", dependencies: ["Verdict", "VerdictDefaultModel", "VerdictJSON", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: settings),
        .executableTarget(
            name: "VerdictCLI",
            dependencies: ["Verdict", "VerdictCommandSupport", "VerdictDefaultModel", "VerdictJSON", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "VerdictServeCLI",
            dependencies: ["Verdict", "VerdictCommandSupport", "VerdictServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: settings
        ),
        // What every test target shares: the repository's root, fixtures, shared data, real weights.
        .target(name: "VerdictTestSupport", path: "Tests/VerdictTestSupport", swiftSettings: settings),
        .testTarget(name: "VerdictTensorTests", dependencies: ["VerdictTestSupport", "CVerdictKernels", "VerdictTensor"], swiftSettings: settings),
        .testTarget(name: "VerdictDatasetsTests", dependencies: ["VerdictTestSupport", "VerdictDatasets"], swiftSettings: settings),
        .testTarget(name: "VerdictHubTests", dependencies: ["VerdictTestSupport", "VerdictHub", "VerdictModels", "VerdictTensor"], swiftSettings: settings),
        .testTarget(name: "VerdictMetricsTests", dependencies: ["VerdictTestSupport", "VerdictMetrics"], swiftSettings: settings),
        .testTarget(name: "VerdictModelsTests", dependencies: ["VerdictTestSupport", "VerdictModels", "VerdictHub", "VerdictTensor", "VerdictTokenizers"], swiftSettings: settings),
        .testTarget(name: "VerdictPipelinesTests", dependencies: ["VerdictTestSupport", "VerdictPipelines", "VerdictDefaultModel", "VerdictModels", "VerdictHub", "VerdictTensor", "VerdictTokenizers"], swiftSettings: settings),
        .testTarget(name: "VerdictTrainingTests", dependencies: ["VerdictTestSupport", "VerdictTraining", "VerdictModels", "VerdictHub", "VerdictTensor", "VerdictTokenizers"], swiftSettings: settings),
        .testTarget(name: "VerdictTokenizersTests", dependencies: ["VerdictTestSupport", "VerdictTokenizers"], swiftSettings: settings),
        .testTarget(name: "VerdictServerTests", dependencies: ["VerdictTestSupport", "VerdictServer", "VerdictPipelines", "VerdictTokenizers", "VerdictJSON"], swiftSettings: settings),
        .testTarget(name: "VerdictCLITests", dependencies: ["VerdictTestSupport", "VerdictCLI", "VerdictServeCLI"], swiftSettings: settings),
        .testTarget(name: "VerdictFuzzTests", dependencies: ["VerdictTestSupport", "VerdictHub", "VerdictTokenizers", "VerdictDatasets", "VerdictModels", "VerdictServer",
                                                             "VerdictTensor", "VerdictJSON"], swiftSettings: settings),
    ]
)
