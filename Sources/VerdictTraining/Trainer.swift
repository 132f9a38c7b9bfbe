import Foundation
import VerdictHub
import VerdictJSON
import VerdictModels
import VerdictProgress
import VerdictTensor
import VerdictTokenizers

/// Tokenized examples and their targets.
public struct TokenizedDataset: Sendable {
    public var encodings: [Encoding]
    public var targets: Targets
    /// Whether batches hand the model the encodings' token types (the tokenizer's
    /// `returnsTokenTypeIds`; otherwise type 0 throughout, as in `transformers`).
    public var tokenTypes = true

    public init(encodings: [Encoding], targets: Targets) { self.encodings = encodings; self.targets = targets }

    /// Tokenizes `texts` on all cores, in chunks, with a progress bar (log lines off a terminal)
    /// for more than 10,000 texts — what `dataset.map(tokenize, batched=True)` does before training.
    public init(tokenizing texts: [String], targets: Targets, tokenizer: Tokenizer, options: TokenizationOptions,
                progress label: String = "tokenize") throws {
        let chunk = 8192
        let progress = texts.count > 10_000 ? ProgressReporter(total: texts.count, label: label) : nil
        var encodings: [Encoding] = []
        encodings.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: chunk) {
            encodings += try tokenizer.encodeBatch(Array(texts[start..<min(start + chunk, texts.count)]), options: options)
            progress?.update(encodings.count)
        }
        self.init(encodings: encodings, targets: targets)
        tokenTypes = tokenizer.returnsTokenTypeIds
    }

    public var count: Int { encodings.count }

    func targets(_ indices: [Int]) -> Targets {
        switch targets {
        case .classes(let c): return .classes(indices.map { c[$0] })
        case .multiHot(let y): return .multiHot(indices.map { y[$0] })
        case .values(let v): return .values(indices.map { v[$0] })
        }
    }

    func batch(_ indices: [Int]) -> PackedBatch { PackedBatch(encodings: indices.map { encodings[$0] }, tokenTypes: tokenTypes) }
}

/// Logits, labels and metrics of a prediction run.
public struct PredictionOutput: Sendable {
    public var logits: Tensor
    public var metrics: [String: Double]
}

/// Fine-tunes a `SequenceClassifier` the way `transformers.Trainer` does: AdamW with a warmup
/// schedule, clipping, accumulation, seeded dropout and data order, evaluation and atomic
/// checkpoints (`checkpoint-<step>/`) that a later run resumes bit for bit.
public final class Trainer {
    public let model: SequenceClassifier
    public let args: TrainingArguments
    public let trainDataset: TokenizedDataset
    public let evalDataset: TokenizedDataset?
    /// Folder whose tokenizer files are copied into checkpoints.
    public let tokenizerFolder: URL?
    /// Extra metrics from predictions; results are reported with the prefix `eval_`.
    public var computeMetrics: (PredictionOutput, Targets) -> [String: Double] = { p, t in Trainer.accuracy(p.logits, t) }
    /// Called after each log entry (tests and the CLI use it).
    public var onLog: ([String: Double]) -> Void = { _ in }
    /// Called after each evaluation during `train` with the global step and the predictions on
    /// the evaluation set (`verdict train` writes an HTML report from them).
    public var onEvaluate: (_ step: Int, _ output: PredictionOutput) throws -> Void = { _, _ in }

    public internal(set) var state = TrainerState()
    var optimizer: AdamW
    var dropoutRNG: SplitMix64
    let names: [String]

    public init(model: SequenceClassifier, args: TrainingArguments, trainDataset: TokenizedDataset,
                evalDataset: TokenizedDataset? = nil, tokenizerFolder: URL? = nil) {
        self.model = model
        self.args = args
        self.trainDataset = trainDataset
        self.evalDataset = evalDataset
        self.tokenizerFolder = tokenizerFolder
        names = model.trainableNames
        optimizer = AdamW(parameters: model.parameters, names: names, weightDecay: args.weightDecay)
        dropoutRNG = SplitMix64(seed: args.seed)
    }

    // MARK: - Schedule

    var stepsPerEpoch: Int {
        let batches = (trainDataset.count + args.perDeviceTrainBatchSize - 1) / args.perDeviceTrainBatchSize
        return max(1, batches / args.gradientAccumulationSteps)
    }
    public var totalStepsForDisplay: Int { totalSteps }
    var totalSteps: Int { args.maxSteps > 0 ? args.maxSteps : Int((Double(stepsPerEpoch) * args.numTrainEpochs).rounded(.up)) }
    var warmupSteps: Int { args.warmupSteps > 0 ? args.warmupSteps : Int((Float(totalSteps) * args.warmupRatio).rounded(.up)) }

    /// The seeded order of examples in `epoch`, cut into batches (micro-batches when accumulating).
    func batches(epoch: Int) -> [[Int]] {
        var rng = SplitMix64(seed: (args.dataSeed ?? args.seed) &+ UInt64(epoch) &* 0x9E37_79B9)
        var order = Array(0..<trainDataset.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let size = args.perDeviceTrainBatchSize
        if args.groupByLength {
            // Sort within mega-batches of 50 batches by length, as transformers' LengthGroupedSampler does.
            let mega = size * 50
            order = stride(from: 0, to: order.count, by: mega).flatMap { start in
                order[start..<min(start + mega, order.count)].sorted { trainDataset.encodings[$0].ids.count > trainDataset.encodings[$1].ids.count }
            }
        }
        return stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    }

    // MARK: - Training

    /// Runs training to the end, resuming from `checkpoint` when given.
    @discardableResult
    public func train(resumeFromCheckpoint checkpoint: URL? = nil) throws -> TrainerState {
        if let checkpoint { try restore(from: checkpoint) }
        let total = totalSteps, warmup = warmupSteps, accumulation = args.gradientAccumulationSteps
        // With no whole step per epoch the loop below could never advance (a hang with max_steps).
        guard batches(epoch: 0).count >= accumulation else {
            throw TrainingError.noTrainingSteps(examples: trainDataset.count, batchSize: args.perDeviceTrainBatchSize, accumulation: accumulation)
        }
        if args.evalStrategy != .no, evalDataset == nil { throw TrainingError.evaluationWithoutData(strategy: args.evalStrategy) }
        // A run folder holds only what runs write: a folder of the user's is refused, not filled.
        try OutputFolder.prepare(args.outputDir, kind: .trainingRun).claim()
        let progress = ProgressReporter(total: total, label: "train")
        var lossSinceLog = 0.0, stepsSinceLog = 0
        var badEvaluations = 0, samplesSeen = 0
        let start = Date()
        var grads = model.parameters.zeros()
        epochLoop: while state.globalStep < total {
            let epoch = Int(state.epoch)
            let epochBatches = batches(epoch: epoch)
            let micro = epochBatches.count / accumulation * accumulation
            var b = state.batchInEpoch
            while b + accumulation <= micro, state.globalStep < total {
                grads.zeroAll()
                var stepLoss = 0.0
                for a in 0..<accumulation {
                    let indices = epochBatches[b + a]
                    let batch = trainDataset.batch(indices)
                    samplesSeen += indices.count
                    var rng: SplitMix64? = dropoutRNG
                    let (logits, cache) = try model.forward(batch, rng: &rng, keepCache: true)
                    dropoutRNG = rng!
                    var (loss, dLogits) = Loss.compute(logits, trainDataset.targets(indices))
                    if accumulation > 1 { for i in 0..<dLogits.count { dLogits.scalars[i] /= Float(accumulation) } }
                    model.backward(dLogits, cache: cache!, batch: batch, grads: &grads)
                    stepLoss += Double(loss) / Double(accumulation)
                }
                let norm = clipGradientNorm(&grads, names: names, maxNorm: args.maxGradNorm)
                let lr = args.learningRate * args.lrSchedulerType.factor(step: state.globalStep, warmupSteps: warmup, totalSteps: total)
                optimizer.update(&model.parameters, gradients: grads, lr: lr)
                state.globalStep += 1
                b += accumulation
                state.batchInEpoch = b
                state.epoch = Double(epoch) + Double(b) / Double(micro)
                lossSinceLog += stepLoss; stepsSinceLog += 1
                progress.update(state.globalStep, detail: String(format: "loss %.4f lr %.2e", stepLoss, lr))
                if args.loggingSteps > 0, state.globalStep % args.loggingSteps == 0 {
                    try log(["loss": lossSinceLog / Double(stepsSinceLog), "learning_rate": Double(lr), "grad_norm": Double(norm)])
                    lossSinceLog = 0; stepsSinceLog = 0
                }
                let endOfEpoch = b + accumulation > micro
                let evaluateNow = (args.evalStrategy == .steps && state.globalStep % args.evalSteps == 0) || (args.evalStrategy == .epoch && endOfEpoch)
                var improved = false
                if evaluateNow, let evalDataset {
                    let (metrics, output) = try evaluateWithPredictions(evalDataset)
                    try onEvaluate(state.globalStep, output)
                    try log(metrics)
                    improved = updateBest(metrics)
                    badEvaluations = improved ? 0 : badEvaluations + 1
                }
                let saveNow = (args.saveStrategy == .steps && state.globalStep % args.saveSteps == 0) || (args.saveStrategy == .epoch && endOfEpoch)
                if endOfEpoch { state.epoch = Double(epoch + 1); state.batchInEpoch = 0 }
                if saveNow || (improved && args.loadBestModelAtEnd && args.saveStrategy != .no) { try saveCheckpoint() }
                if let patience = args.earlyStoppingPatience, badEvaluations >= patience { break epochLoop }
            }
            if b + accumulation > micro, state.batchInEpoch != 0 { state.epoch = Double(epoch + 1); state.batchInEpoch = 0 }
        }
        let runtime = Date().timeIntervalSince(start)
        try log(["train_runtime": runtime, "train_samples_per_second": Double(samplesSeen) / max(runtime, 1e-9)])
        if args.loadBestModelAtEnd, let best = state.bestModelCheckpoint {
            try loadWeights(from: URL(fileURLWithPath: best))
        }
        return state
    }

    func updateBest(_ metrics: [String: Double]) -> Bool {
        let key = args.metricForBestModel.hasPrefix("eval_") ? args.metricForBestModel : "eval_" + args.metricForBestModel
        guard let value = metrics[key] else { return false }
        let better = state.bestMetric.map { args.greaterIsBetter ? value > $0 : value < $0 } ?? true
        if better {
            state.bestMetric = value
            state.bestMetricStep = state.globalStep
        }
        return better
    }

    func log(_ values: [String: Double]) throws {
        var entry = values
        entry["step"] = Double(state.globalStep)
        entry["epoch"] = (state.epoch * 10_000).rounded() / 10_000
        state.logHistory.append(entry)
        onLog(entry)
        let line = JSONValue.object(entry.sorted { $0.key < $1.key }.map { ($0.key, .double($0.value)) }).serialized() + "\n"
        let url = URL(fileURLWithPath: args.outputDir).appendingPathComponent("log.jsonl")
        try ModelSaving.createDirectory(url.deletingLastPathComponent())
        if let h = try? FileHandle(forWritingTo: url) { h.seekToEndOfFile(); h.write(Data(line.utf8)); try? h.close() }
        else { try ModelSaving.write(Data(line.utf8), to: url) }
        if !(isatty(STDERR_FILENO) != 0 && values["loss"] != nil) {
            FileHandle.standardError.write(Data(("\n" + line).utf8))
        }
    }

    // MARK: - Evaluation

    /// Logits for a dataset, batched by similar length, returned in input order.
    public func predict(_ dataset: TokenizedDataset) throws -> PredictionOutput {
        let order = (0..<dataset.count).sorted { dataset.encodings[$0].ids.count < dataset.encodings[$1].ids.count }
        let labels = model.config.numLabels
        var logits = Tensor(shape: [dataset.count, labels])
        let progress = ProgressReporter(total: dataset.count, label: "eval")
        for start in stride(from: 0, to: order.count, by: args.perDeviceEvalBatchSize) {
            let indices = Array(order[start..<min(start + args.perDeviceEvalBatchSize, order.count)])
            let out = try model.logits(dataset.batch(indices))
            for (j, i) in indices.enumerated() { for c in 0..<labels { logits.scalars[i * labels + c] = out.scalars[j * labels + c] } }
            progress.update(start + indices.count)
        }
        let output = PredictionOutput(logits: logits, metrics: [:])
        var metrics: [String: Double] = [:]
        let (loss, _) = Loss.compute(logits, dataset.targets)
        metrics["loss"] = Double(loss)
        for (k, v) in computeMetrics(output, dataset.targets) { metrics[k] = v }
        return PredictionOutput(logits: logits, metrics: metrics)
    }

    /// Metrics on `dataset`, prefixed `eval_`.
    public func evaluate(_ dataset: TokenizedDataset) throws -> [String: Double] { try evaluateWithPredictions(dataset).metrics }

    func evaluateWithPredictions(_ dataset: TokenizedDataset) throws -> (metrics: [String: Double], output: PredictionOutput) {
        let start = Date()
        let output = try predict(dataset)
        var out: [String: Double] = [:]
        for (k, v) in output.metrics { out["eval_" + k] = v }
        out["eval_runtime"] = Date().timeIntervalSince(start)
        return (out, output)
    }

    /// Saves the model (weights in `args.saveDType`) with the tokenizer files into `folder` (`save_model`).
    public func saveModel(to folder: URL) throws {
        try ModelSaving.save(model, tokenizerFolder: tokenizerFolder, to: folder, dtype: args.saveDType.dtype)
    }

    /// Accuracy of arg-max predictions (single-label targets).
    public static func accuracy(_ logits: Tensor, _ targets: Targets) -> [String: Double] {
        guard case .classes(let labels) = targets else { return [:] }
        let c = logits.shape[1]
        var correct = 0
        for (i, y) in labels.enumerated() {
            // Arg-max that never picks a NaN (a diverged run's logits) and never traps on one.
            var best = -1
            for j in 0..<c where !logits.scalars[i * c + j].isNaN && (best < 0 || logits.scalars[i * c + j] > logits.scalars[i * c + best]) { best = j }
            if best == y { correct += 1 }
        }
        return ["accuracy": Double(correct) / Double(max(1, labels.count))]
    }
}
