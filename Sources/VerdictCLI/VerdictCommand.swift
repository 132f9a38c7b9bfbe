import ArgumentParser

/// The `verdict` command line: thin wrappers that parse, call the library and print.
@main
struct VerdictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict",
        abstract: "Native Swift text classification with transformer models.",
        subcommands: [ClassifyCommand.self, EvaluateCommand.self, EmbedCommand.self, InspectCommand.self, QuantizeCommand.self, TokenizeCommand.self, TrainCommand.self, ServeCommand.self, BenchClassifyCommand.self, BenchTrainCommand.self, BenchKernelsCommand.self, BenchScalingCommand.self, BenchTokenizerCommand.self, BenchDatasetCommand.self]
    )
}
