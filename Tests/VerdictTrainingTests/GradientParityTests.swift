import Foundation
import VerdictTestSupport
import XCTest
import VerdictHub
import VerdictModels
import VerdictTensor
import VerdictTokenizers
@testable import VerdictTraining

/// Loss, every parameter gradient and 20 AdamW steps against PyTorch
/// (goldens from tools/make_training_fixtures.py; dropout off).
final class GradientParityTests: XCTestCase {
    static let root = Repository.root
    static let models = root.appendingPathComponent("Fixtures/models"), fixtures = root.appendingPathComponent("Fixtures/training")

    struct Golden: Decodable { let texts: [String]; let single: [Int]; let multi: [[Float]]; let regression: [Float] }

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("training.golden.json")))
    }

    func batch(_ model: String, _ texts: [String]) throws -> PackedBatch {
        let tokenizer = try AutoTokenizer.from(folder: Self.models.appendingPathComponent(model))
        return PackedBatch(encodings: try tokenizer.encodeBatch(texts))
    }

    /// Tensor-wise relative error: max |a − b| over max |b|.
    ///
    /// The attention key bias is the exception: softmax is invariant to it, so its true gradient
    /// is exactly zero and both PyTorch's and Verdict's values are rounding noise (~1e-11). For it
    /// the check is that Verdict's gradient is zero to within 1e-7, reported as that magnitude.
    static func gradientError(_ name: String, _ a: Tensor, _ b: Tensor) -> Float {
        if name.hasSuffix("key.bias") || name.hasSuffix("k_lin.bias") { return (a.scalars.map(abs).max() ?? 0) * 1e3 }
        return a.maxAbsDifference(b) / max(b.scalars.map(abs).max() ?? 0, 1e-12)
    }

    func testLossAndGradientsAllProblemTypes() throws {
        let g = try Self.golden()
        for model in ["tiny-bert-safetensors-fp32", "tiny-distilbert-safetensors-fp32"] {
            try Self.checkGradients(model, folder: Self.models.appendingPathComponent(model), goldens: Self.fixtures,
                                    batch: try batch(model, g.texts), golden: g, error: Self.gradientError)
        }
    }

    /// Loss and every parameter gradient of `folder`'s classifier on `batch`, for the three problem
    /// types, against `<goldens>/<model>.<problem>.grads.safetensors` (dropout off). `error` compares
    /// one parameter's gradient with the reference.
    static func checkGradients(_ model: String, folder: URL, goldens: URL, batch: PackedBatch, golden g: Golden,
                               error: (String, Tensor, Tensor) -> Float) throws {
        for (problem, targets) in [(ProblemType.singleLabelClassification, Targets.classes(g.single)),
                                   (.multiLabelClassification, .multiHot(g.multi)), (.regression, .values(g.regression))] {
            let file = try SafeTensorsFile(url: goldens.appendingPathComponent("\(model).\(problem.rawValue).grads.safetensors"))
            let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path, labels: problem == .regression ? ["LABEL_0"] : nil,
                                                                          problemType: problem)
            for name in file.names where name.hasPrefix("param.") {
                classifier.parameters[String(name.dropFirst(6))] = try file.tensor(name)
            }
            var rng: SplitMix64? = nil
            let (logits, cache) = try classifier.forward(batch, rng: &rng, keepCache: true)
            let (loss, dLogits) = Loss.compute(logits, targets)
            XCTAssertEqual(loss, try file.tensor("loss").scalars[0], accuracy: 1e-5 * max(1, abs(loss)), "\(model) \(problem)")
            var grads = classifier.parameters.zeros()
            classifier.backward(dLogits, cache: cache!, batch: batch, grads: &grads)
            var worst: (Float, String) = (0, "")
            for name in file.names where name.hasPrefix("grad.") {
                let param = String(name.dropFirst(5))
                // GPT-2's Conv1D weights: checkpoints (and PyTorch's gradients) are [in, out].
                let ours = classifier.encoder.transposedWeights.contains(param) ? grads[param].transposed() : grads[param]
                let e = error(param, ours, try file.tensor(name))
                if e > worst.0 { worst = (e, param) }
            }
            print("gradient parity \(model) \(problem.rawValue): loss \(loss), worst relative error \(worst.0) (\(worst.1))")
            XCTAssertLessThan(worst.0, 1e-4, "\(model) \(problem) \(worst.1)")
            XCTAssertEqual(Set(file.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }), Set(classifier.trainableNames),
                           "\(model): every parameter has a reference gradient")
        }
    }

    func testCustomHeadGradientsForEachPooling() throws {
        let g = try Self.golden()
        for (model, poolings) in [("tiny-bert-safetensors-fp32", [ClassifierHeadConfig.Pooling.cls, .mean, .pooler]),
                                  ("tiny-distilbert-safetensors-fp32", [.cls, .mean])] {
            let batch = try batch(model, g.texts)
            for pooling in poolings {
                let file = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("\(model).custom-\(pooling.rawValue).grads.safetensors"))
                let classifier = try AutoModelForSequenceClassification.from(
                    pretrained: Self.models.appendingPathComponent(model).path, labels: ["a", "b", "c"],
                    head: ClassifierHeadConfig(pooling: pooling, hiddenWidth: 16, dropout: 0.1))
                for name in file.names where name.hasPrefix("param.") {
                    classifier.parameters[String(name.dropFirst(6))] = try file.tensor(name)
                }
                var rng: SplitMix64? = nil
                let (logits, cache) = try classifier.forward(batch, rng: &rng, keepCache: true)
                let (loss, dLogits) = Loss.crossEntropy(logits, g.single)
                XCTAssertEqual(loss, try file.tensor("loss").scalars[0], accuracy: 1e-5, "\(model) \(pooling)")
                var grads = classifier.parameters.zeros()
                classifier.backward(dLogits, cache: cache!, batch: batch, grads: &grads)
                var worst: (Float, String) = (0, "")
                for name in file.names where name.hasPrefix("grad.") {
                    let param = String(name.dropFirst(5))
                    let reference = try file.tensor(name)
                    // Parameters PyTorch never touched (the pooler under cls/mean pooling) must get exactly zero.
                    let e = reference.scalars.allSatisfy { $0 == 0 } ? grads[param].scalars.map(abs).max()! : Self.gradientError(param, grads[param], reference)
                    if e > worst.0 { worst = (e, param) }
                }
                print("custom head \(model) \(pooling.rawValue): loss \(loss), worst relative error \(worst.0) (\(worst.1))")
                XCTAssertLessThan(worst.0, 1e-4, "\(model) \(pooling) \(worst.1)")
                XCTAssertEqual(file.names.filter { $0.hasPrefix("grad.") }.count, classifier.trainableNames.count)
            }
        }
    }

    func testTwentyAdamWStepsWithWarmupAndClipping() throws {
        let g = try Self.golden()
        for model in ["tiny-bert-safetensors-fp32", "tiny-distilbert-safetensors-fp32"] {
            try Self.checkAdamW(model, folder: Self.models.appendingPathComponent(model), goldens: Self.fixtures,
                                halves: [try batch(model, Array(g.texts[0..<3])), try batch(model, Array(g.texts[3..<6]))], golden: g)
        }
    }

    /// 20 AdamW steps (lr 1e-3, 5 warmup steps of a linear schedule, weight decay 0.01, gradient
    /// norm clipped to 1) on alternating halves of the batch against `<goldens>/<model>.adamw20.safetensors`.
    static func checkAdamW(_ model: String, folder: URL, goldens: URL, halves: [PackedBatch], golden g: Golden) throws {
        let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path, problemType: .singleLabelClassification)
        let labels = [Array(g.single[0..<3]), Array(g.single[3..<6])]
        let names = classifier.trainableNames
        var optimizer = AdamW(parameters: classifier.parameters, names: names, weightDecay: 0.01)
        for step in 0..<20 {
            var rng: SplitMix64? = nil
            let (logits, cache) = try classifier.forward(halves[step % 2], rng: &rng, keepCache: true)
            let (_, dLogits) = Loss.crossEntropy(logits, labels[step % 2])
            var grads = classifier.parameters.zeros()
            classifier.backward(dLogits, cache: cache!, batch: halves[step % 2], grads: &grads)
            clipGradientNorm(&grads, names: names, maxNorm: 1)
            let lr = 1e-3 * LearningRateSchedule.linear.factor(step: step, warmupSteps: 5, totalSteps: 20)
            optimizer.update(&classifier.parameters, gradients: grads, lr: lr)
        }
        let expected = try SafeTensorsFile(url: goldens.appendingPathComponent("\(model).adamw20.safetensors"))
        var worst: (Float, String) = (0, "")
        let saved = Dictionary(uniqueKeysWithValues: classifier.checkpointTensors)
        for name in expected.names {
            let d = saved[name]!.maxAbsDifference(try expected.tensor(name))
            if d > worst.0 { worst = (d, name) }
        }
        print("AdamW 20 steps \(model): max |Δw| \(worst.0) (\(worst.1))")
        XCTAssertLessThan(worst.0, 1e-4, "\(model) \(worst.1)")
    }
}
