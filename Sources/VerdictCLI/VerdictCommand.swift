import ArgumentParser
import Verdict
import VerdictCommandSupport

/// The `verdict` command line: thin wrappers that parse, call the library and print.
@main
struct VerdictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict",
        abstract: "Native Swift text classification with transformer models.",
        discussion: "Benchmarks (bench-classify, bench-train, bench-kernels, bench-scaling, bench-tokenizer, bench-dataset) are not listed; see docs/Performance.md.",
        version: CommandVersion.string,
        subcommands: [ClassifyCommand.self, EvaluateCommand.self, EmbedCommand.self, InspectCommand.self, QuantizeCommand.self, TokenizeCommand.self, TrainCommand.self, ServeForwardingCommand.self, EnvCommand.self, BenchClassifyCommand.self, BenchTrainCommand.self, BenchKernelsCommand.self, BenchScalingCommand.self, BenchTokenizerCommand.self, BenchDatasetCommand.self]
    )

    /// Every command starts with the allocator settings of a process that runs models (`Allocator`).
    static func main() async {
        Allocator.keepFreedMemoryForReuse()
        await main(nil)
    }
}
