import ArgumentParser
import Verdict
import VerdictTensor

/// The `verdict` command line: thin wrappers that parse, call the library and print.
@main
struct VerdictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict",
        abstract: "Native Swift text classification with transformer models.",
        discussion: "Benchmarks (bench-classify, bench-train, bench-kernels, bench-scaling, bench-tokenizer, bench-dataset) are not listed; see docs/Performance.md.",
        version: versionString,
        subcommands: [ClassifyCommand.self, EvaluateCommand.self, EmbedCommand.self, InspectCommand.self, QuantizeCommand.self, TokenizeCommand.self, TrainCommand.self, ServeCommand.self, EnvCommand.self, BenchClassifyCommand.self, BenchTrainCommand.self, BenchKernelsCommand.self, BenchScalingCommand.self, BenchTokenizerCommand.self, BenchDatasetCommand.self]
    )

    /// `0.1.0 (commit abc1234)`: the package version, and the commit when the build recorded it.
    static var versionString: String {
        VerdictVersion.current + (KernelInfo.buildCommit.map { " (commit \($0))" } ?? " (commit not recorded: built without make)")
    }
}
