import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict bench-dataset`: load a labelled file, split it (stratified), and tokenize it through
/// `Dataset.map`, reporting wall-clock and CPU time for each step (CPU/wall > 1 means several cores).
struct BenchDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-dataset",
                                                    abstract: "Time loading, splitting and tokenizing a dataset (a benchmark, not a test).", shouldDisplay: false)

    @Option(help: "CSV/TSV/JSONL file.") var data: String
    @Option(help: "Model folder whose tokenizer is used (default: the bundled sentiment model).") var model: String?
    @Option(help: "Text column.") var textColumn: String = "sentence"
    @Option(help: "Label column to stratify by.") var labelColumn: String = "label"
    @Option(help: "Rows per map batch.") var batchSize: Int = 1000

    func run() throws {
        try reportingErrors {
            let tokenizer = try AutoTokenizer.from(folder: try resolveModelFolder(model ?? DefaultModel.path()))
            let (dataset, load) = try measure { try Dataset.load(URL(fileURLWithPath: data)) }
            let (splits, split) = try measure { try dataset.trainTestSplit(testSize: 0.1, seed: 42, stratifyBy: labelColumn) }
            let textColumn = textColumn
            let (encodings, tokenize) = try measure {
                try dataset.map(batchSize: batchSize, progress: "tokenize") { batch in
                    try batch.column(textColumn).map { try tokenizer.encode($0) }
                }
            }
            let tokens = encodings.reduce(0) { $0 + $1.ids.count }
            print("\(dataset.count) rows; splits train \(splits["train"]?.count ?? 0) / test \(splits["test"]?.count ?? 0); \(tokens) tokens")
            for (name, t) in [("load", load), ("stratified split", split), ("tokenize via map", tokenize)] {
                let padded = name.padding(toLength: 18, withPad: " ", startingAt: 0)
                print(padded + String(format: "wall %7.3f s  cpu %7.3f s  (cpu/wall %.2f)", t.wall, t.cpu, t.wall > 0 ? t.cpu / t.wall : 0))
            }
        }
    }

    private func measure<T>(_ body: () throws -> T) rethrows -> (T, (wall: Double, cpu: Double)) {
        let cpu0 = processCPUSeconds(), wall0 = Date()
        let value = try body()
        return (value, (Date().timeIntervalSince(wall0), processCPUSeconds() - cpu0))
    }

    private func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
