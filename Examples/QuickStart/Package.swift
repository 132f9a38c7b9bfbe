// swift-tools-version:6.0
import PackageDescription

// A package that depends on Verdict by version, as any other package would, and runs the README's
// first library lines. CI builds it against a local clone tagged with the current version
// (tools/check_dependent_package.sh sets VERDICT_PACKAGE_URL to file://…); SwiftPM applies its rules
// for versioned dependencies there (no unsafeFlags), which a path dependency would not.
let verdictURL = Context.environment["VERDICT_PACKAGE_URL"] ?? "https://github.com/verdict-swift/verdict.git"

let package = Package(
    name: "QuickStart",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: verdictURL, from: "0.1.0"),
    ],
    targets: [
        .executableTarget(name: "QuickStart", dependencies: [.product(name: "Verdict", package: "verdict")]),
    ]
)
