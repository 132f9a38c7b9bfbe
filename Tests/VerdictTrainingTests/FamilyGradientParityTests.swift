import Foundation
import XCTest
import VerdictHub
import VerdictModels
import VerdictTensor
import VerdictTokenizers
@testable import VerdictTraining

/// Loss, every parameter gradient (single-label, multi-label, regression) and 20 AdamW steps of
/// every encoder, decoder and encoder–decoder family against PyTorch, dropout off (goldens from
/// tools/make_family_fixtures.py and tools/make_decoder_fixtures.py).
final class FamilyGradientParityTests: XCTestCase {
    static let families = GradientParityTests.root.appendingPathComponent("Fixtures/families")
    static let decoders = GradientParityTests.root.appendingPathComponent("Fixtures/decoders")
    static let decoderNames = ["tiny-gpt2", "tiny-llama", "tiny-llama-linear", "tiny-mistral", "tiny-qwen2", "tiny-qwen3", "tiny-mbart"]
    /// (checkpoint folder, name) of every family checkpoint.
    static var all: [(URL, String)] {
        supported.map { (families.appendingPathComponent($0), $0) } + decoderNames.map { (decoders.appendingPathComponent($0), $0) }
    }
    /// The family checkpoints Verdict trains (Fixtures/families holds the rest for the families still to come).
    static let supported = ["tiny-roberta", "tiny-xlm-roberta", "tiny-camembert", "tiny-electra", "tiny-albert", "tiny-albert-groups",
                            "tiny-mpnet", "tiny-modernbert", "tiny-modernbert-cls", "tiny-longformer", "tiny-deberta-v2", "tiny-deberta-v2-classic"]

    func batch(_ folder: URL, _ texts: [String]) throws -> PackedBatch {
        let tokenizer = try AutoTokenizer.from(folder: folder)
        return PackedBatch(encodings: try tokenizer.encodeBatch(texts), tokenTypes: tokenizer.returnsTokenTypeIds)
    }

    /// Relative error as in `GradientParityTests`; where the reference is exactly zero (parameters
    /// whose output never reaches the loss), Verdict's gradient must be zero to within 1e-7.
    func error(_ name: String, _ got: Tensor, _ reference: Tensor) -> Float {
        // Key biases that only shift a whole row of scores (MPNet's key; DeBERTa's positional key
        // projection when c2p is its only use; Longformer's global key) have an analytically zero
        // gradient: softmax ignores them.
        // mBART's key biases likewise (rotary models' are rotated per position and do matter).
        let mbartKeyBias = name.hasSuffix("k_proj.bias") && (name.hasPrefix("model.encoder.layers.") || name.hasPrefix("model.decoder.layers."))
        if name.hasSuffix(".k.bias") || name.hasSuffix("pos_key_proj.bias") || name.hasSuffix("key_global.bias") || mbartKeyBias {
            return (got.scalars.map(abs).max() ?? 0) * 1e3
        }
        if reference.scalars.allSatisfy({ $0 == 0 }) { return (got.scalars.map(abs).max() ?? 0) * 1e3 }
        return GradientParityTests.gradientError(name, got, reference)
    }

    func testLossAndGradientsAllProblemTypes() throws {
        let g = try GradientParityTests.golden()
        for (folder, model) in Self.all {
            try GradientParityTests.checkGradients(model, folder: folder, goldens: folder.deletingLastPathComponent().appendingPathComponent("training"),
                                                   batch: try batch(folder, g.texts), golden: g, error: error)
        }
    }

    func testTwentyAdamWStepsWithWarmupAndClipping() throws {
        let g = try GradientParityTests.golden()
        for (folder, model) in Self.all {
            try GradientParityTests.checkAdamW(model, folder: folder, goldens: folder.deletingLastPathComponent().appendingPathComponent("training"),
                                               halves: [try batch(folder, Array(g.texts[0..<3])), try batch(folder, Array(g.texts[3..<6]))], golden: g)
        }
    }

    /// `transformers`' `Trainer` decay rule: the goldens' no-decay lists are what it chose.
    func testWeightDecayFollowsTheTrainersNameRule() throws {
        var meta = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.families.appendingPathComponent("families.meta.json"))) as! [String: [String: Any]]
        meta.merge(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.decoders.appendingPathComponent("decoders.meta.json"))) as! [String: [String: Any]]) { a, _ in a }
        for (folder, model) in Self.all {
            let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path)
            let noDecay = Set(meta[model]!["no_decay"] as! [String])
            XCTAssertEqual(Set(classifier.trainableNames.filter { !AdamW.decays($0) }), noDecay, model)
        }
    }

    /// With dropout on (Longformer's attention probabilities, band, global keys and global rows,
    /// and every other dropout of the config), the gradient equals central finite differences of
    /// the loss computed with the same dropout masks (same generator seed).
    func testLongformerGradientsWithDropoutMatchFiniteDifferences() throws {
        let g = try GradientParityTests.golden()
        let classifier = try AutoModelForSequenceClassification.from(pretrained: Self.families.appendingPathComponent("tiny-longformer").path,
                                                                      problemType: .singleLabelClassification)
        let batch = try batch(Self.families.appendingPathComponent("tiny-longformer"), g.texts)
        func loss(_ keepCache: Bool) throws -> (Float, SequenceClassifier.Cache?, Tensor) {
            var rng: SplitMix64? = SplitMix64(seed: 7)
            let (logits, cache) = try classifier.forward(batch, rng: &rng, keepCache: keepCache)
            let (loss, dLogits) = Loss.crossEntropy(logits, g.single)
            return (loss, cache, dLogits)
        }
        let (_, cache, dLogits) = try loss(true)
        var grads = classifier.parameters.zeros()
        classifier.backward(dLogits, cache: cache!, batch: batch, grads: &grads)
        let h = 1e-2 as Float
        for name in ["longformer.encoder.layer.0.attention.self.query.weight", "longformer.encoder.layer.0.attention.self.value.weight",
                     "longformer.encoder.layer.1.attention.self.value_global.weight", "longformer.encoder.layer.1.attention.self.query_global.weight"] {
            // The entries the loss is most sensitive to, so that float32 differences resolve them.
            let magnitudes = grads[name].scalars.enumerated().sorted { abs($0.element) > abs($1.element) }
            for index in magnitudes.prefix(3).map(\.offset) {
                let original = classifier.parameters[name].scalars[index]
                classifier.parameters.modify(name) { $0.scalars[index] = original + h }
                let up = try loss(false).0
                classifier.parameters.modify(name) { $0.scalars[index] = original - h }
                let down = try loss(false).0
                classifier.parameters.modify(name) { $0.scalars[index] = original }
                let numeric = (up - down) / (2 * h), analytic = grads[name].scalars[index]
                print("dropout gradient \(name)[\(index)]: analytic \(analytic), finite differences \(numeric)")
                XCTAssertEqual(analytic, numeric, accuracy: 5e-6 + 2e-2 * abs(numeric), "\(name)[\(index)]")
            }
        }
    }
}
