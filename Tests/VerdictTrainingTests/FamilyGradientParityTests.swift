import Foundation
import XCTest
import VerdictHub
import VerdictModels
import VerdictTensor
import VerdictTokenizers
@testable import VerdictTraining

/// Loss, every parameter gradient (single-label, multi-label, regression) and 20 AdamW steps of
/// every encoder family against PyTorch, dropout off (goldens from tools/make_family_fixtures.py).
final class FamilyGradientParityTests: XCTestCase {
    static let families = GradientParityTests.root.appendingPathComponent("Fixtures/families")
    /// The family checkpoints Verdict trains (Fixtures/families holds the rest for the families still to come).
    static let supported = ["tiny-roberta", "tiny-xlm-roberta", "tiny-camembert", "tiny-electra", "tiny-albert", "tiny-albert-groups",
                            "tiny-mpnet", "tiny-modernbert", "tiny-modernbert-cls", "tiny-longformer", "tiny-deberta-v2", "tiny-deberta-v2-classic"]

    func batch(_ model: String, _ texts: [String]) throws -> PackedBatch {
        let tokenizer = try AutoTokenizer.from(folder: Self.families.appendingPathComponent(model))
        return PackedBatch(encodings: try tokenizer.encodeBatch(texts), tokenTypes: tokenizer.returnsTokenTypeIds)
    }

    /// Relative error as in `GradientParityTests`; where the reference is exactly zero (parameters
    /// whose output never reaches the loss), Verdict's gradient must be zero to within 1e-7.
    func error(_ name: String, _ got: Tensor, _ reference: Tensor) -> Float {
        // Key biases that only shift a whole row of scores (MPNet's key; DeBERTa's positional key
        // projection when c2p is its only use; Longformer's global key) have an analytically zero
        // gradient: softmax ignores them.
        if name.hasSuffix(".k.bias") || name.hasSuffix("pos_key_proj.bias") || name.hasSuffix("key_global.bias") { return (got.scalars.map(abs).max() ?? 0) * 1e3 }
        if reference.scalars.allSatisfy({ $0 == 0 }) { return (got.scalars.map(abs).max() ?? 0) * 1e3 }
        return GradientParityTests.gradientError(name, got, reference)
    }

    func testLossAndGradientsAllProblemTypes() throws {
        let g = try GradientParityTests.golden()
        for model in Self.supported {
            let batch = try batch(model, g.texts)
            for (problem, targets) in [(ProblemType.singleLabelClassification, Targets.classes(g.single)),
                                       (.multiLabelClassification, .multiHot(g.multi)), (.regression, .values(g.regression))] {
                let file = try SafeTensorsFile(url: Self.families.appendingPathComponent("training/\(model).\(problem.rawValue).grads.safetensors"))
                let classifier = try AutoModelForSequenceClassification.from(
                    pretrained: Self.families.appendingPathComponent(model).path,
                    labels: problem == .regression ? ["LABEL_0"] : nil, problemType: problem)
                for name in file.names where name.hasPrefix("param.") {
                    classifier.parameters[String(name.dropFirst(6))] = try file.tensor(name)
                }
                var rng: SplitMix64? = nil
                let (logits, cache) = classifier.forward(batch, rng: &rng, keepCache: true)
                let (loss, dLogits) = Loss.compute(logits, targets)
                XCTAssertEqual(loss, try file.tensor("loss").scalars[0], accuracy: 1e-5 * max(1, abs(loss)), "\(model) \(problem)")
                var grads = classifier.parameters.zeros()
                classifier.backward(dLogits, cache: cache!, batch: batch, grads: &grads)
                var worst: (Float, String) = (0, "")
                for name in file.names where name.hasPrefix("grad.") {
                    let param = String(name.dropFirst(5))
                    let e = error(param, grads[param], try file.tensor(name))
                    if e > worst.0 { worst = (e, param) }
                }
                print("gradient parity \(model) \(problem.rawValue): loss \(loss), worst relative error \(worst.0) (\(worst.1))")
                XCTAssertLessThan(worst.0, 1e-4, "\(model) \(problem) \(worst.1)")
                XCTAssertEqual(Set(file.names.filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }), Set(classifier.trainableNames),
                               "\(model): every parameter has a reference gradient")
            }
        }
    }

    func testTwentyAdamWStepsWithWarmupAndClipping() throws {
        let g = try GradientParityTests.golden()
        for model in Self.supported {
            let classifier = try AutoModelForSequenceClassification.from(pretrained: Self.families.appendingPathComponent(model).path,
                                                                          problemType: .singleLabelClassification)
            let halves = [try batch(model, Array(g.texts[0..<3])), try batch(model, Array(g.texts[3..<6]))]
            let labels = [Array(g.single[0..<3]), Array(g.single[3..<6])]
            let names = classifier.trainableNames
            var optimizer = AdamW(parameters: classifier.parameters, names: names, weightDecay: 0.01)
            for step in 0..<20 {
                var rng: SplitMix64? = nil
                let (logits, cache) = classifier.forward(halves[step % 2], rng: &rng, keepCache: true)
                let (_, dLogits) = Loss.crossEntropy(logits, labels[step % 2])
                var grads = classifier.parameters.zeros()
                classifier.backward(dLogits, cache: cache!, batch: halves[step % 2], grads: &grads)
                clipGradientNorm(&grads, names: names, maxNorm: 1)
                let lr = 1e-3 * LearningRateSchedule.linear.factor(step: step, warmupSteps: 5, totalSteps: 20)
                optimizer.update(&classifier.parameters, gradients: grads, lr: lr)
            }
            let expected = try SafeTensorsFile(url: Self.families.appendingPathComponent("training/\(model).adamw20.safetensors"))
            var worst: Float = 0
            for name in expected.names { worst = max(worst, classifier.parameters[name].maxAbsDifference(try expected.tensor(name))) }
            print("AdamW 20 steps \(model): max |Δw| \(worst)")
            XCTAssertLessThan(worst, 1e-4, model)
        }
    }

    /// `transformers`' `Trainer` decay rule: the goldens' no-decay lists are what it chose.
    func testWeightDecayFollowsTheTrainersNameRule() throws {
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.families.appendingPathComponent("families.meta.json"))) as! [String: [String: Any]]
        for model in Self.supported {
            let classifier = try AutoModelForSequenceClassification.from(pretrained: Self.families.appendingPathComponent(model).path)
            let noDecay = Set(meta[model]!["no_decay"] as! [String])
            XCTAssertEqual(Set(classifier.trainableNames.filter { !AdamW.decays($0) }), noDecay, model)
        }
    }
}
