import ArgumentParser

/// The `verdict` command line: thin wrappers that parse, call the library and print.
@main
struct VerdictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict",
        abstract: "Native Swift text classification with transformer models.",
        subcommands: [ClassifyCommand.self, EvaluateCommand.self, EmbedCommand.self, InspectCommand.self, TokenizeCommand.self, TrainCommand.self, BenchClassifyCommand.self, BenchTrainCommand.self, BenchTokenizerCommand.self, BenchDatasetCommand.self]
    )
}
