import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictJSON

/// `verdict evaluate`: classify a labelled file and report metrics as scikit-learn prints them.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Evaluate a classifier on a labelled CSV/TSV file.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Labelled CSV/TSV file with a header.") var data: String
    @Option(help: "Text column (default: text, sentence, review or content, whichever the file has first).") var textColumn: String?
    @Option(help: "Label column: label names of the model, or ids (default: label or labels, whichever the file has).") var labelColumn: String?
    @Option(help: "Texts per forward pass.") var batchSize: Int = 32
    @Option(help: "Also write the predictions (one JSON object per line) to this file (a new file, or an earlier one of this command's).") var predictions: String?
    @Option(help: "Write an HTML report (heat map, worst examples) into this folder (a new or empty folder, or an earlier report).") var report: String?
    @Flag(help: "Print the metrics as one JSON object.") var json = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    func run() throws {
        try reportingErrors {
            // The outputs are checked before the evaluation runs, and written after its metrics are printed.
            let dataURL = URL(fileURLWithPath: data)
            let predictionsFile = try predictions.map { try OutputFile.prepare($0, flag: "--predictions", inputs: [dataURL], isOwn: Self.isPredictionsFile) }
            let reportFolder = try report.map { try OutputFolder.prepare($0, kind: .report, flag: "--report", inputs: [dataURL]) }
            let classifier = try pipeline(.textClassification, model: modelOptions.model, precision: modelOptions.dtype)
            let names = classifier.model.config.labels
            let dataset = try LabelledTexts.load(dataURL, textColumn: textColumn, labelColumn: labelColumn, labelNames: names)
            let start = Date()
            let logits = try classifier.logits(dataset.texts, batchSize: batchSize)
            let seconds = Date().timeIntervalSince(start)
            let c = names.count
            let (predicted, confidence) = EvaluationReport.argmaxAndConfidence(logits.scalars, classes: c)
            let labels = Array(0..<c)
            let accuracy = ClassificationMetrics.accuracy(dataset.labels, predicted)
            let macro = ClassificationMetrics.score(dataset.labels, predicted, average: .macro, labels: labels)
            let matrix = ClassificationMetrics.confusionMatrix(dataset.labels, predicted, labels: labels)
            if json {
                printJSONLine([("accuracy", .double(accuracy)), ("macro_f1", .double(macro.f1)),
                               ("confusion_matrix", .array(matrix.map { .array($0.map { .int($0) }) })),
                               ("examples", .int(dataset.count)), ("texts_per_second", .double(Double(dataset.count) / seconds))])
            } else {
                print(ClassificationMetrics.classificationReport(dataset.labels, predicted, labels: labels, targetNames: names, digits: 4))
                print("confusion matrix (rows: true, columns: predicted; order \(names.joined(separator: ", "))):")
                for row in matrix { print("  " + row.map { String(format: "%6d", $0) }.joined()) }
                print(String(format: "\naccuracy %.4f on %d examples; %.1f texts/s (%.2f s)", accuracy, dataset.count, Double(dataset.count) / seconds, seconds))
            }
            fflush(nil)
            if let predictionsFile {
                var out = ""
                for i in 0..<dataset.count {
                    out += JSONValue.object([("text", .string(dataset.texts[i])), ("label", .string(names[dataset.labels[i]])),
                                             ("predicted", .string(names[predicted[i]]))]).serialized() + "\n"
                }
                try predictionsFile.write(Data(out.utf8))
            }
            if let reportFolder {
                let page = EvaluationReport(title: "verdict evaluate: \(data)", labelNames: names, texts: dataset.texts,
                                            yTrue: dataset.labels, yPred: predicted, confidence: confidence).html()
                try reportFolder.write { folder in try Data(page.utf8).write(to: folder.appendingPathComponent("report.html")) }
            }
        }
    }

    /// An earlier `--predictions` file of this command: its first line is an object with a `predicted` member.
    static func isPredictionsFile(_ url: URL) -> Bool {
        guard let reader = try? LineReader(path: url.path), let first = try? reader.next() else { return true }   // empty: nothing to lose
        guard case .object(let members)? = try? JSONParser.parse(Data(first.1)) else { return false }
        return members.contains { $0.0 == "predicted" }
    }
}
