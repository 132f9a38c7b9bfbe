// swift-tools-version:6.0
import PackageDescription

// The Hugging Face course's classification notebooks, line for line in Swift: one executable per
// notebook, each printing what the notebook prints. `tools/check_tutorials.sh` runs them and
// compares their numbers with what the same steps give in Python (Fixtures/tutorials/goldens.json).
let package = Package(
    name: "Tutorials",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Verdict", path: "../..")],
    targets: [
        .target(name: "TutorialSupport", dependencies: [.product(name: "Verdict", package: "Verdict")]),
        .executableTarget(name: "PipelineInThreeStages", dependencies: ["TutorialSupport", .product(name: "Verdict", package: "Verdict")]),
        .executableTarget(name: "BertInputsAndOutputs", dependencies: ["TutorialSupport", .product(name: "Verdict", package: "Verdict")]),
        .executableTarget(name: "BehindThePipeline", dependencies: ["TutorialSupport", .product(name: "Verdict", package: "Verdict")]),
        .executableTarget(name: "FineTuning", dependencies: ["TutorialSupport", .product(name: "Verdict", package: "Verdict")]),
    ]
)
