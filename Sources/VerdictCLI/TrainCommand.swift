import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictJSON

/// `verdict train`: fine-tune a classifier on a labelled CSV/TSV file.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a transformer classifier (any supported family) on labelled text.",
        discussion: "Options mirror transformers' TrainingArguments. --config reads a JSON recipe with the same keys in snake_case plus model, train, eval, text_column, label_column and labels; flags given on the command line win.")

    @Option(help: "JSON recipe (see recipes/).") var config: String?
    @Option(help: "Base model folder or cached Hub id.") var model: String?
    @Option(help: "Training file (CSV/TSV with a header).") var train: String?
    @Option(help: "Evaluation file.") var eval: String?
    @Option(help: "Text column (default: text, sentence, review or content, whichever the file has first).") var textColumn: String?
    @Option(help: "Label column (default: label or labels, whichever the file has).") var labelColumn: String?
    @Option(help: "Label names in id order, comma-separated (e.g. NEGATIVE,POSITIVE).") var labels: String?
    @Option(help: "Output folder for checkpoints and the final model.") var output: String?
    @Option(help: "Epochs.") var epochs: Double?
    @Option(help: "Peak learning rate.") var learningRate: Float?
    @Option(help: "Training batch size.") var batchSize: Int?
    @Option(help: "Evaluation batch size.") var evalBatchSize: Int?
    @Option(help: "Maximum tokens per text.") var maxLength: Int?
    @Option(help: "Weight decay.") var weightDecay: Float?
    @Option(help: "Warmup as a fraction of all steps.") var warmupRatio: Float?
    @Option(help: "Learning-rate schedule after warmup.") var scheduler: LearningRateSchedule?
    @Option(help: "Seed of initialisation, dropout and data order.") var seed: UInt64?
    @Option(help: "Stop after this many optimizer steps.") var maxSteps: Int?
    @Option(help: "Log every N steps.") var loggingSteps: Int?
    @Option(help: "When to evaluate.") var evalStrategy: IntervalStrategy?
    @Option(help: "When to save a checkpoint.") var saveStrategy: IntervalStrategy?
    @Option(help: "Save every N steps (with --save-strategy steps).") var saveSteps: Int?
    @Option(help: "Keep at most N checkpoints (the best is never deleted).") var saveTotalLimit: Int?
    @Option(help: "Number format of the final model's weights.") var saveDtype: SaveDType?
    @Option(help: "Resume from this checkpoint folder.") var resumeFromCheckpoint: String?

    struct Recipe: Decodable {
        var model: String?
        var train: String?
        var eval: String?
        var text_column: String?
        var label_column: String?
        var labels: [String]?

        static let keys = ["model", "train", "eval", "text_column", "label_column", "labels"]
    }

    func validate() throws {
        if let labels { _ = try classNames(labels.split(separator: ",", omittingEmptySubsequences: false).map(String.init), flag: "--labels") }
    }

    func run() throws { try reportingErrors(execute) }

    /// Reads a recipe: every key must be one `train` knows (a misspelt key is an error naming the
    /// nearest one, not a setting silently ignored), every value of the type it needs.
    static func readRecipe(_ path: String) throws -> (Recipe, TrainingArguments) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("--config \(path): cannot read it (\(fileErrorReason(error)))")
        }
        guard let root = try? JSONNode.parse(data: data, file: path), let members = try? root.object() else {
            throw ValidationError("--config \(path): not a JSON object of settings (see recipes/)")
        }
        let known = Recipe.keys + TrainingArguments.jsonKeys
        for (key, _) in members where !known.contains(key) {
            let hint = nearest(key, in: known).map { "; did you mean \"\($0)\"?" } ?? " (keys: \(known.sorted().joined(separator: ", ")))"
            throw ValidationError("--config \(path): unknown key \"\(key)\"\(hint)")
        }
        do {
            return (try JSONDecoder().decode(Recipe.self, from: data), try JSONDecoder().decode(TrainingArguments.self, from: data))
        } catch let error as DecodingError {
            throw ValidationError(describe(error, file: "--config " + path))
        }
    }

    func execute() throws {
        var recipe = Recipe()
        var args = TrainingArguments(outputDir: output ?? "")
        if let config { (recipe, args) = try Self.readRecipe(config) }
        if let output { args.outputDir = output }
        if let epochs { args.numTrainEpochs = epochs }
        if let learningRate { args.learningRate = learningRate }
        if let batchSize { args.perDeviceTrainBatchSize = batchSize }
        if let evalBatchSize { args.perDeviceEvalBatchSize = evalBatchSize }
        if let maxLength { args.maxLength = maxLength }
        if let weightDecay { args.weightDecay = weightDecay }
        if let warmupRatio { args.warmupRatio = warmupRatio }
        if let scheduler { args.lrSchedulerType = scheduler }
        if let seed { args.seed = seed }
        if let maxSteps { args.maxSteps = maxSteps }
        if let loggingSteps { args.loggingSteps = loggingSteps }
        if let evalStrategy { args.evalStrategy = evalStrategy }
        if let saveStrategy { args.saveStrategy = saveStrategy }
        if let saveSteps { args.saveSteps = saveSteps }
        if let saveTotalLimit { args.saveTotalLimit = saveTotalLimit }
        if let saveDtype { args.saveDType = saveDtype }
        if let problem = args.problem { throw ValidationError(problem) }
        guard let modelName = model ?? recipe.model else { throw ValidationError("--model (or a recipe with \"model\") is required") }
        guard let trainFile = train ?? recipe.train else { throw ValidationError("--train (or a recipe with \"train\") is required") }
        guard !args.outputDir.isEmpty else { throw ValidationError("--output (or a recipe with \"output_dir\") is required") }
        let textColumn = self.textColumn ?? recipe.text_column   // nil: LabelledTexts.defaultTextColumns
        let labelColumn = self.labelColumn ?? recipe.label_column   // nil: LabelledTexts.defaultLabelColumns
        let labelNames = try labels.map { try classNames($0.split(separator: ",", omittingEmptySubsequences: false).map(String.init), flag: "--labels") }
            ?? recipe.labels.map { try classNames($0, flag: "--config \(config ?? "") labels") }
        let evalFile = eval ?? recipe.eval
        if args.evalStrategy != .no, evalFile == nil { throw ValidationError(TrainingError.evaluationWithoutData(strategy: args.evalStrategy).description) }

        // Every path is checked before anything long starts: the run folder and its final model
        // take only what Verdict writes, and never hold the inputs.
        let folder = try resolveModelFolder(modelName)
        let inputs = [folder, URL(fileURLWithPath: trainFile)] + (evalFile.map { [URL(fileURLWithPath: $0)] } ?? [])
        let run = try OutputFolder.prepare(args.outputDir, kind: .trainingRun, flag: "--output", inputs: inputs)
        let final = run.url.appendingPathComponent("final")
        _ = try OutputFolder.prepare(final.path, kind: .model, flag: "--output", inputs: inputs)
        if let resumeFromCheckpoint, !FileManager.default.fileExists(atPath: URL(fileURLWithPath: resumeFromCheckpoint).appendingPathComponent("training_state.json").path) {
            throw ValidationError("--resume-from-checkpoint \(resumeFromCheckpoint): not a checkpoint folder of verdict train (it has no training_state.json)")
        }

        let trainData = try LabelledTexts.load(URL(fileURLWithPath: trainFile), textColumn: textColumn, labelColumn: labelColumn, labelNames: labelNames)
        if Set(trainData.labels).count < 2, let only = trainData.labels.first {
            throw TrainingError.singleClass(label: trainData.labelNames[only])
        }
        let evalData = try evalFile.map {
            try LabelledTexts.load(URL(fileURLWithPath: $0), textColumn: textColumn, labelColumn: labelColumn, labelNames: trainData.labelNames)
        }
        let tokenizer = try AutoTokenizer.from(folder: folder)
        // Decoders batch only with a padding id; like the usual recipe, take the tokenizer's (or its end-of-text token).
        let padding = tokenizer.padTokenId ?? tokenizer.eosTokenId
        let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path, labels: trainData.labelNames,
                                                                      problemType: .singleLabelClassification, padTokenId: padding, seed: args.seed)
        if classifier.config.hasPadTokenId, try ModelConfig(folder: folder).hasPadTokenId == false {
            FileHandle.standardError.write(Data("note: config.json has no pad_token_id; using the tokenizer's \(classifier.config.padTokenId)\n".utf8))
        }
        try classifier.checkCompatible(with: tokenizer, folder: folder)
        if let warning = classifier.loadReport.warning { FileHandle.standardError.write(Data("note: \(warning)\n".utf8)) }
        // Never more tokens than the model has positions for (RoBERTa-style tables hold two fewer).
        let maxLength = min(args.maxLength, classifier.encoder.maxSequenceLength)
        if maxLength < args.maxLength {
            FileHandle.standardError.write(Data("note: texts are truncated to \(maxLength) tokens, the most this model takes\n".utf8))
        }
        let options = TokenizationOptions(truncation: .longestFirst, maxLength: maxLength)
        func tokenize(_ d: LabelledTexts) throws -> TokenizedDataset {
            try TokenizedDataset(tokenizing: d.texts, targets: .classes(d.labels), tokenizer: tokenizer, options: options)
        }
        let trainer = Trainer(model: classifier, args: args, trainDataset: try tokenize(trainData),
                              evalDataset: try evalData.map(tokenize), tokenizerFolder: folder)
        let reports = run.url.appendingPathComponent("reports")
        var wroteReports = false
        if let evalData {
            trainer.onEvaluate = { step, output in
                try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
                let page = EvaluationReport(title: "verdict train: evaluation at step \(step)", labelNames: evalData.labelNames,
                                            texts: evalData.texts, yTrue: evalData.labels, logits: output.logits.scalars).html()
                try Data(page.utf8).write(to: reports.appendingPathComponent("step-\(step).html"), options: .atomic)
                wroteReports = true
            }
        }
        FileHandle.standardError.write(Data("training on \(trainData.count) examples, labels \(trainData.labelNames), \(trainer.totalStepsForDisplay) steps\n".utf8))
        try trainer.train(resumeFromCheckpoint: resumeFromCheckpoint.map { URL(fileURLWithPath: $0) })
        try trainer.saveModel(to: final)
        if let evalDataset = trainer.evalDataset {
            let metrics = try trainer.evaluate(evalDataset)
            print(metrics.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        }
        let curve = run.url.appendingPathComponent("training_curve.svg")
        try Data(TrainingCurve.svg(trainer.state.logHistory).utf8).write(to: curve, options: .atomic)
        print("saved \(final.path) and \(curve.path)" + (wroteReports ? "; evaluation reports in \(reports.path)" : ""))
    }
}
