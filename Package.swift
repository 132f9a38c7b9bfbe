// swift-tools-version:6.0
import PackageDescription

let v5: [SwiftSetting] = [.swiftLanguageMode(.v5), .unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "Verdict",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Verdict", targets: ["Verdict"]),
        .executable(name: "verdict", targets: ["VerdictCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CVerdictKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        .target(name: "VerdictTensor", dependencies: ["CVerdictKernels"], swiftSettings: v5),
        .target(name: "VerdictTokenizers", swiftSettings: v5),
        .target(name: "VerdictHub", dependencies: ["VerdictTensor"], swiftSettings: v5),
        .target(name: "VerdictModels", dependencies: ["VerdictTensor", "VerdictHub", "VerdictTokenizers"], swiftSettings: v5),
        .target(name: "VerdictPipelines", dependencies: ["VerdictModels", "VerdictTokenizers", "VerdictHub"], swiftSettings: v5),
        .target(
            name: "Verdict",
            dependencies: ["VerdictTensor", "VerdictTokenizers", "VerdictHub", "VerdictModels", "VerdictPipelines"],
            swiftSettings: v5
        ),
        .executableTarget(
            name: "VerdictCLI",
            dependencies: ["Verdict", "VerdictTokenizers", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: v5
        ),
        .testTarget(name: "VerdictTensorTests", dependencies: ["VerdictTensor"], swiftSettings: v5),
        .testTarget(name: "VerdictTokenizersTests", dependencies: ["VerdictTokenizers"], swiftSettings: v5),
        .testTarget(name: "VerdictHubTests", dependencies: ["VerdictHub"], swiftSettings: v5),
        .testTarget(name: "VerdictModelsTests", dependencies: ["VerdictModels", "VerdictPipelines"], swiftSettings: v5),
    ]
)
