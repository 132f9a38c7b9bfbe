import Foundation
import XCTest
import VerdictHub
import VerdictModels
import VerdictTensor
import VerdictTokenizers
@testable import VerdictTraining

/// Trainer behaviour on the tiny BERT checkpoint: learning, checkpoint layout, pruning, and
/// bit-for-bit resume.
final class TrainerTests: XCTestCase {
    static let model = GradientParityTests.models.appendingPathComponent("tiny-bert-safetensors-fp32")

    func dataset(_ folder: URL = model) throws -> TokenizedDataset {
        let tokenizer = try AutoTokenizer.from(folder: folder)
        let words = ["good", "great", "fine", "love", "bad", "awful", "poor", "hate"]
        var texts: [String] = [], labels: [Int] = []
        var rng = SplitMix64(seed: 3)
        for _ in 0..<48 {
            let n = 2 + Int(rng.next() % 6)
            let picks = (0..<n).map { _ in words[Int(rng.next() % 8)] }
            texts.append(picks.joined(separator: " "))
            labels.append(picks.filter { words.firstIndex(of: $0)! < 4 }.count * 2 >= n ? 1 : 0)
        }
        return TokenizedDataset(encodings: try tokenizer.encodeBatch(texts), targets: .classes(labels))
    }

    func arguments(_ dir: URL) -> TrainingArguments {
        var args = TrainingArguments(outputDir: dir.path)
        args.learningRate = 3e-3
        args.perDeviceTrainBatchSize = 8
        args.numTrainEpochs = 2
        args.warmupRatio = 0.1
        args.weightDecay = 0.01
        args.saveStrategy = .steps
        args.saveSteps = 4
        args.evalStrategy = .epoch
        args.loggingSteps = 2
        args.saveTotalLimit = 2
        args.metricForBestModel = "accuracy"
        return args
    }

    func classifier(_ folder: URL = model) throws -> SequenceClassifier {
        try AutoModelForSequenceClassification.from(pretrained: folder.path, labels: ["NEGATIVE", "POSITIVE"], seed: 7)
    }

    func temporary() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("verdict-train-\(UUID().uuidString)") }

    func testTrainsSavesPrunesAndResumesBitForBit() throws {
        let data = try dataset()
        let dirA = temporary()
        let a = Trainer(model: try classifier(), args: arguments(dirA), trainDataset: data, evalDataset: data, tokenizerFolder: Self.model)
        let before = try a.evaluate(data)["eval_loss"]!
        try a.train()
        let state = a.state
        XCTAssertEqual(state.globalStep, 12)
        XCTAssertLessThan(try a.evaluate(data)["eval_loss"]!, before, "training lowers the loss")
        XCTAssertEqual(state.logHistory.filter { $0["loss"] != nil }.count, 6)
        XCTAssertEqual(state.logHistory.filter { $0["eval_accuracy"] != nil }.count, 2)
        let kept = try FileManager.default.contentsOfDirectory(atPath: dirA.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        XCTAssertLessThanOrEqual(kept.count, 3, "save_total_limit 2, plus the best if older: \(kept)")
        XCTAssertTrue(kept.contains("checkpoint-12"))
        if let best = state.bestModelCheckpoint { XCTAssertTrue(FileManager.default.fileExists(atPath: best), "the best checkpoint is never pruned") }
        let last = dirA.appendingPathComponent("checkpoint-12")
        for f in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json", "training_state.json", "tokenizer.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: last.appendingPathComponent(f).path), f)
        }
        XCTAssertEqual(try ModelConfig(folder: last).labels, ["NEGATIVE", "POSITIVE"])

        // Resume from the step-8 checkpoint of the same run (kept by the limit) into a fresh trainer.
        let dirB = temporary()
        try FileManager.default.createDirectory(at: dirB, withIntermediateDirectories: true)
        let resumeFrom = dirA.appendingPathComponent("checkpoint-8")
        XCTAssertTrue(FileManager.default.fileExists(atPath: resumeFrom.path), "\(kept)")
        let b = Trainer(model: try classifier(), args: arguments(dirB), trainDataset: data, evalDataset: data, tokenizerFolder: Self.model)
        try b.train(resumeFromCheckpoint: resumeFrom)
        for name in a.model.parameters.names {
            XCTAssertEqual(a.model.parameters[name].scalars, b.model.parameters[name].scalars, "\(name) differs after resume")
        }
    }

    /// GPT-2 checkpoints hold Conv1D weights as `[in, out]` (transformers' layout): resuming reads
    /// them back into the model's `[out, in]`, and the run continues bit for bit.
    func testResumesGPT2CheckpointsBitForBit() throws {
        let folder = GradientParityTests.models.deletingLastPathComponent().appendingPathComponent("decoders/tiny-gpt2")
        let data = try dataset(folder)
        let dirA = temporary(), dirB = temporary()
        defer { try? FileManager.default.removeItem(at: dirA); try? FileManager.default.removeItem(at: dirB) }
        var args = arguments(dirA)
        args.evalStrategy = .no
        args.saveTotalLimit = nil
        args.loadBestModelAtEnd = false
        let a = Trainer(model: try classifier(folder), args: args, trainDataset: data, evalDataset: nil, tokenizerFolder: folder)
        try a.train()
        try FileManager.default.createDirectory(at: dirB, withIntermediateDirectories: true)
        args.outputDir = dirB.path
        let b = Trainer(model: try classifier(folder), args: args, trainDataset: data, evalDataset: nil, tokenizerFolder: folder)
        try b.train(resumeFromCheckpoint: dirA.appendingPathComponent("checkpoint-8"))
        for name in a.model.parameters.names {
            XCTAssertEqual(a.model.parameters[name].scalars, b.model.parameters[name].scalars, "\(name) differs after resume")
        }
    }

    /// A checkpoint whose weights do not fit the model is refused with the tensor's name, not a trap.
    func testResumeRefusesAWrongShapedCheckpoint() throws {
        let data = try dataset()
        let dir = temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        var args = arguments(dir)
        args.evalStrategy = .no
        args.saveTotalLimit = nil
        let a = Trainer(model: try classifier(), args: args, trainDataset: data, evalDataset: nil, tokenizerFolder: Self.model)
        try a.train()
        let checkpoint = dir.appendingPathComponent("checkpoint-4")
        let weights = try SafeTensorsFile(url: checkpoint.appendingPathComponent("model.safetensors"))
        var tensors = try weights.names.map { ($0, try weights.tensor($0)) }
        let i = try XCTUnwrap(tensors.firstIndex { $0.0.hasSuffix("classifier.weight") })
        tensors[i].1 = Tensor(shape: [3, tensors[i].1.shape[1]], repeating: 0)
        try SafeTensorsFile.write(tensors, to: checkpoint.appendingPathComponent("model.safetensors"))
        let b = Trainer(model: try classifier(), args: args, trainDataset: data, evalDataset: nil, tokenizerFolder: Self.model)
        XCTAssertThrowsError(try b.train(resumeFromCheckpoint: checkpoint)) { error in
            XCTAssertTrue("\(error)".contains("classifier.weight"), "\(error)")
        }
    }

    /// No examples, or fewer batches than one accumulated step: an error, not a loop that never advances.
    func testRefusesDataWithoutAWholeStep() throws {
        let dir = temporary()
        defer { try? FileManager.default.removeItem(at: dir) }
        var args = arguments(dir)
        args.maxSteps = 5
        let empty = TokenizedDataset(encodings: [], targets: .classes([]))
        XCTAssertThrowsError(try Trainer(model: try classifier(), args: args, trainDataset: empty).train()) { error in
            XCTAssertEqual(error as? TrainingError, .noTrainingSteps(examples: 0, batchSize: 8, accumulation: 1))
        }
        args.gradientAccumulationSteps = 10   // 48 examples are 6 batches of 8
        XCTAssertThrowsError(try Trainer(model: try classifier(), args: args, trainDataset: try dataset()).train()) { error in
            XCTAssertTrue("\(error)".contains("not one optimizer step"), "\(error)")
        }
    }
}
