// Fine-tuning a transformer for sentence classification: labelled texts from a list, a CSV and a
// JSONL file; sampling; random, stratified and grouped train/validation/test splits; `Trainer`
// with evaluation and a checkpoint per epoch and the best model loaded at the end; seeds that make
// two runs give identical weights; the test set's classification report and confusion matrix;
// saving for re-use; the most confidently wrong test examples; inference with the saved model.
//
// all-MiniLM-L6-v2 with a new two-label head, on 400 SST-2 sentences
// (Fixtures/tutorials/finetune, written by tools/make_finetune_goldens.py).
//
//     swift run FineTuning        (env: VERDICT_MINILM_DIR; VERDICT_FINETUNE_OUTPUT keeps the run's folder)
import Foundation
import TutorialSupport
import Verdict

let transcript = Transcript(section: "fine_tuning")
let labelNames = ["negative", "positive"]
let fixtures = TutorialModels.repository.appendingPathComponent("Fixtures/tutorials/finetune")
let environment = ProcessInfo.processInfo.environment

/// Why the tutorial stops.
struct TutorialError: Error, CustomStringConvertible {
    var description: String
}

/// How often each of `labelNames` occurs in `values` (zero counts included).
func labelCounts(_ values: [String]) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: labelNames.map { name in (name, values.filter { $0 == name }.count) })
}

/// Ids, size, label counts and proportions (and, for a grouped split, the groups) of each split.
func describe(_ splits: DatasetDict, groups: Bool = false) throws -> [String: Any] {
    var out: [String: Any] = [:]
    for (name, part) in splits.splits {
        let counts = labelCounts(try part.column("label"))
        var entry: [String: Any] = [
            "ids": try part.column("id"), "count": part.count, "label_counts": counts,
            "label_proportions": counts.mapValues { Double($0) / Double(max(1, part.count)) },
        ]
        if groups { entry["groups"] = Array(Set(try part.column("group"))).sorted() }
        out[name] = entry
        let shares = labelNames.map { String(format: "%@ %.3f", $0, Double(counts[$0] ?? 0) / Double(max(1, part.count))) }
        print("  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(format: "%3d", part.count)) rows  \(shares.joined(separator: "  "))")
    }
    return out
}

// The run's folder: checkpoints, the second run, the saved model. Kept when
// VERDICT_FINETUNE_OUTPUT names it (tools/make_finetune_goldens.py reads it), else temporary.
let keepOutput = environment["VERDICT_FINETUNE_OUTPUT"] != nil
let output = URL(fileURLWithPath: environment["VERDICT_FINETUNE_OUTPUT"]
    ?? FileManager.default.temporaryDirectory.appendingPathComponent("verdict-finetune-\(getpid())").path)
if let existing = try? FileManager.default.contentsOfDirectory(atPath: output.path), !existing.isEmpty {
    throw TutorialError(description: "\(output.path) is not empty: name a new folder in VERDICT_FINETUNE_OUTPUT")
}

transcript.step("Labelled texts from a list")
let listTexts = ["A gripping, beautifully acted drama.", "Dull, predictable and far too long.",
                 "The best film I have seen this year.", "I walked out after twenty minutes.",
                 "Funny, warm and surprisingly moving.", "A mess of a script with nothing to say."]
let listLabels = ["positive", "negative", "positive", "negative", "positive", "negative"]
let fromList = Dataset(columns: [("text", listTexts), ("label", listLabels)])
let listEncoding = LabelEncoding(values: try fromList.column("label"))
print("ids: \(try listEncoding.encode(try fromList.column("label")))")
transcript.show("list_count", fromList.count)
transcript.show("list_label_names", listEncoding.classNames)
transcript.show("list_label_counts", labelCounts(try fromList.column("label")))

transcript.step("Labelled texts from a CSV file")
let csvURL = fixtures.appendingPathComponent("sst2_sample.csv")
let fromCSV = try LabelledTexts.load(csvURL, textColumn: "sentence", labelColumn: "label")
let table = try Dataset.load(csvURL)
transcript.show("csv_columns", table.columnNames)
transcript.show("csv_count", fromCSV.count)
transcript.show("csv_label_names", fromCSV.labelNames)
transcript.show("csv_label_counts", labelCounts(fromCSV.labels.map { fromCSV.labelNames[$0] }))
transcript.show("csv_groups", Set(try table.column("group")).count)

transcript.step("Labelled texts from a JSON Lines file (integer labels, named here)")
let fromJSONL = try LabelledTexts.load(fixtures.appendingPathComponent("sst2_dev.jsonl"), labelNames: labelNames)
transcript.show("jsonl_count", fromJSONL.count)
transcript.show("jsonl_label_counts", labelCounts(fromJSONL.labels.map { fromJSONL.labelNames[$0] }))
transcript.show("jsonl_first_texts", Array(fromJSONL.texts.prefix(3)))

transcript.step("A random sample")
let sample = table.shuffled(seed: 42).select(Array(0..<min(8, table.count)))
for record in (0..<sample.count).map(sample.record(at:)) { print("  \(record["label"] ?? "")\t\(record["sentence"] ?? "")") }
transcript.show("sample_ids", try sample.column("id"))
transcript.show("sample_label_counts", labelCounts(try sample.column("label")))

transcript.step("Train / validation / test splits (70 / 15 / 15) and their label proportions")
print("random:")
transcript.record("random_split", try describe(try table.trainValidationTestSplit(validation: 0.15, test: 0.15, seed: 42)))
print("stratified by label:")
let stratified = try table.trainValidationTestSplit(validation: 0.15, test: 0.15, seed: 42, stratifyBy: "label")
transcript.record("stratified_split", try describe(stratified))
print("grouped by film (no film in two splits):")
let grouped = try table.groupedSplit(groupBy: "group", fractions: [0.7, 0.15, 0.15], names: ["train", "validation", "test"], seed: 42)
transcript.record("grouped_split", try describe(grouped, groups: true))

transcript.step("Tokenizing the stratified splits")
let checkpoint = TutorialModels.miniLM
let tokenizer = try AutoTokenizer.from(folder: URL(fileURLWithPath: checkpoint))
let maxLength = 64
let tokenization = TokenizationOptions(truncation: .longestFirst, maxLength: maxLength)
let encoding = LabelEncoding(values: [], classNames: labelNames)
func split(_ name: String) throws -> Dataset {
    guard let part = stratified[name] else { throw TutorialError(description: "no \(name) split") }
    return part
}
func tokenized(_ part: Dataset) throws -> TokenizedDataset {
    try TokenizedDataset(tokenizing: try part.column("sentence"), targets: .classes(try encoding.encode(try part.column("label"))),
                         tokenizer: tokenizer, options: tokenization)
}
let (trainSplit, validationSplit, testSplit) = (try split("train"), try split("validation"), try split("test"))
let (train, validation, test) = (try tokenized(trainSplit), try tokenized(validationSplit), try tokenized(testSplit))
transcript.show("train_max_tokens", train.encodings.map(\.ids.count).max() ?? 0)

transcript.step("A model with a new two-label head")
func freshModel() throws -> SequenceClassifier {
    try AutoModelForSequenceClassification.from(pretrained: checkpoint, labels: labelNames,
                                                problemType: .singleLabelClassification, seed: 42)
}
let model = try freshModel()
if let warning = model.loadReport.warning { print(warning) }

transcript.step("Training: evaluate and save every epoch, keep the best")
func arguments(_ folder: URL) -> TrainingArguments {
    var args = TrainingArguments(outputDir: folder.path)
    args.learningRate = 2e-4
    args.perDeviceTrainBatchSize = 16
    args.perDeviceEvalBatchSize = 32
    args.numTrainEpochs = 2
    args.weightDecay = 0.01
    args.warmupRatio = 0.1
    args.loggingSteps = 6
    args.evalStrategy = .epoch
    args.saveStrategy = .epoch
    args.loadBestModelAtEnd = true
    args.metricForBestModel = "accuracy"
    args.seed = 42
    args.maxLength = maxLength
    return args
}
func metrics(_ prediction: PredictionOutput, _ targets: Targets) -> [String: Double] {
    guard case .classes(let truth) = targets else { return [:] }
    let predicted = EvaluationReport.argmaxAndConfidence(prediction.logits.scalars, classes: labelNames.count).predicted
    return ["accuracy": ClassificationMetrics.accuracy(truth, predicted),
            "f1_macro": ClassificationMetrics.score(truth, predicted, average: .macro).f1]
}
let trainer = Trainer(model: model, args: arguments(output), trainDataset: train, evalDataset: validation,
                      tokenizerFolder: URL(fileURLWithPath: checkpoint))
trainer.computeMetrics = metrics
let started = Date()
try trainer.train()
print(String(format: "trained %d steps in %.1f s", trainer.state.globalStep, Date().timeIntervalSince(started)))
let history: [[String: Any]] = trainer.state.logHistory.compactMap { entry in
    guard let accuracy = entry["eval_accuracy"], let step = entry["step"].map(Int.init) else { return nil }
    return ["checkpoint": "checkpoint-\(step)", "step": step, "eval_accuracy": accuracy,
            "eval_loss": entry["eval_loss"] ?? .nan, "eval_f1_macro": entry["eval_f1_macro"] ?? .nan]
}
for entry in history {
    print(String(format: "  %@  eval_loss %.4f  eval_accuracy %.4f  eval_f1_macro %.4f", entry["checkpoint"] as? String ?? "",
                 entry["eval_loss"] as? Double ?? .nan, entry["eval_accuracy"] as? Double ?? .nan, entry["eval_f1_macro"] as? Double ?? .nan))
}
transcript.record("eval_history", history)
let best = trainer.state.bestModelCheckpoint.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "none"
transcript.show("best_checkpoint", best)

transcript.step("Reproducibility: the same seeds, a second run, the same weights")
let secondModel = try freshModel()
let second = Trainer(model: secondModel, args: arguments(output.appendingPathComponent("second-run")), trainDataset: train,
                     evalDataset: validation, tokenizerFolder: URL(fileURLWithPath: checkpoint))
second.computeMetrics = metrics
try second.train()
let difference = model.parameters.names.map { Double(model.parameters[$0].maxAbsDifference(secondModel.parameters[$0])) }.max() ?? .nan
transcript.show("weights_max_abs_difference", difference)

transcript.step("The test set: classification report and confusion matrix")
let prediction = try trainer.predict(test)
let truth = try encoding.encode(try testSplit.column("label"))
let (predicted, confidence) = EvaluationReport.argmaxAndConfidence(prediction.logits.scalars, classes: labelNames.count)
let testLogits = rows(prediction.logits)
transcript.record("test_labels", truth)
transcript.record("test_predictions", predicted)
transcript.record("test_logits", testLogits)
transcript.record("test_probabilities", testLogits.map { Logits.softmax($0.map(Float.init)) })
transcript.show("test_accuracy", ClassificationMetrics.accuracy(truth, predicted))
let classIds = Array(labelNames.indices)
let report = ClassificationMetrics.report(truth, predicted, labels: classIds, targetNames: labelNames, digits: 4)
print(report)
transcript.record("classification_report", report.text)
// The same report as values, as scikit-learn's output_dict=True gives it.
func scores(_ s: PRFScore) -> [String: Any] { ["precision": s.precision, "recall": s.recall, "f1-score": s.f1, "support": s.support] }
var reportValues: [String: Any] = ["accuracy": report.accuracy ?? .nan, "macro avg": scores(report.macroAverage),
                                   "weighted avg": scores(report.weightedAverage)]
for row in report.classes { reportValues[row.name] = scores(row.score) }
transcript.record("report", reportValues)
let confusion = ClassificationMetrics.confusionMatrix(truth, predicted, labels: classIds)
print("confusion matrix (rows: true \(labelNames), columns: predicted)")
transcript.show("confusion_matrix", confusion)

transcript.step("Saving for re-use")
let saved = output.appendingPathComponent("model")
try trainer.saveModel(to: saved)
// Verdict's marker (.verdict-output.json, which lets a later save replace the folder) is hidden; list what transformers reads.
transcript.show("saved_files", try FileManager.default.contentsOfDirectory(atPath: saved.path).filter { !$0.hasPrefix(".") }.sorted())
transcript.show("saved_id2label", Dictionary(uniqueKeysWithValues: model.config.labels.enumerated().map { (String($0.offset), $0.element) }))

transcript.step("The most confidently wrong test examples")
let testIds = try testSplit.column("id"), testTexts = try testSplit.column("sentence")
let evaluation = EvaluationReport(title: "SST-2 sample, test split", labelNames: labelNames, texts: testTexts,
                                  yTrue: truth, yPred: predicted, confidence: confidence)
let wrong = evaluation.mostConfidentlyWrong(limit: 5)
for i in wrong { print(String(format: "  %.4f  %@ → %@  %@", confidence[i], labelNames[truth[i]], labelNames[predicted[i]], testTexts[i])) }
transcript.record("most_confidently_wrong", wrong.map { i -> [String: Any] in
    ["id": testIds[i], "text": testTexts[i], "label": labelNames[truth[i]], "predicted": labelNames[predicted[i]], "confidence": confidence[i]]
})

transcript.step("Inference with the saved model")
let classifier = try pipeline(.textClassification, model: saved.path)
let results = try classifier(fromJSONL.texts).compactMap(\.first)
let correct = zip(results, fromJSONL.labels).filter { $0.label == labelNames[$1] }.count
print("JSONL sentences: \(results.count), accuracy \(String(format: "%.4f", Double(correct) / Double(max(1, results.count))))")
transcript.record("inference_labels", results.map(\.label))
transcript.record("inference_scores", results.map { Double($0.score) })
transcript.show("inference_accuracy", Double(correct) / Double(max(1, results.count)))
let newTexts = ["This movie was a delight from start to finish.", "A tedious, joyless slog.", "Not bad at all, though the ending drags."]
let newResults = try classifier(newTexts).compactMap(\.first)
for (text, result) in zip(newTexts, newResults) { print("  \(text) → \(result)") }
transcript.record("new_texts", zip(newTexts, newResults).map { ["text": $0, "label": $1.label, "score": Double($1.score)] as [String: Any] })

if !keepOutput { try? FileManager.default.removeItem(at: output) }
try transcript.save()
