import Foundation
import XCTest
@testable import VerdictModels
import VerdictTensor
import VerdictTokenizers

/// Classification inference computes the last layer for the pooled row of each sequence only
/// (`TransformerStack.forward(_:_:onlyRows:)`). Its logits must be those of the full forward pass
/// bit for bit, in every family that takes the shortcut; the others must decline it. (The parity
/// tests compare the logits themselves with `transformers`.)
final class PooledRowsTests: XCTestCase {
    private let texts = ["a charming and often affecting journey", "unflinchingly bleak and desperate", "it is",
                         "the acting, costumes, music, cinematography and sound are all astounding given the production's austere locales .",
                         "x", "nothing happens , and it happens to flat characters ."]

    /// Folders, and whether their classifier's last layer can run on the pooled rows alone.
    private var cases: [(URL, Bool)] {
        let families = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/families")
        let decoders = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/decoders")
        return [(ModelFixtures.folder.appendingPathComponent("tiny-bert-safetensors-fp32"), true),
                (ModelFixtures.folder.appendingPathComponent("tiny-distilbert-safetensors-fp32"), true),
                (families.appendingPathComponent("tiny-roberta"), true), (families.appendingPathComponent("tiny-electra"), true),
                (families.appendingPathComponent("tiny-albert-groups"), true), (families.appendingPathComponent("tiny-modernbert-cls"), true),
                (decoders.appendingPathComponent("tiny-gpt2"), true), (decoders.appendingPathComponent("tiny-llama"), true),
                (decoders.appendingPathComponent("tiny-qwen3"), true), (decoders.appendingPathComponent("tiny-mistral"), true),
                (families.appendingPathComponent("tiny-mpnet"), false), (families.appendingPathComponent("tiny-deberta-v2"), false),
                (families.appendingPathComponent("tiny-longformer"), false), (decoders.appendingPathComponent("tiny-mbart"), false)]
    }

    /// The folder's classifier and the texts packed by its tokenizer.
    private func classifierAndBatch(_ folder: URL) throws -> (SequenceClassifier, PackedBatch) {
        let model = try AutoModelForSequenceClassification.from(pretrained: folder.path)
        let tokenizer = try AutoTokenizer.from(folder: folder)
        let encodings = try tokenizer.encodeBatch(texts, options: TokenizationOptions(truncation: .longestFirst, maxLength: tokenizer.modelMaxLength))
        return (model, PackedBatch(encodings: encodings, tokenTypes: tokenizer.returnsTokenTypeIds))
    }

    func testLogitsFromPooledRowsEqualFullForwardBitForBit() throws {
        for (folder, takesShortcut) in cases {
            let name = folder.lastPathComponent
            let (model, packed) = try classifierAndBatch(folder)
            // What the classifier's forward pass runs (Longformer's head adds global attention first).
            let batch = model.encoder.classifierGlobalAttention ? packed.withGlobalAttentionOnFirstTokens() : packed
            // As loaded (weights packed on every call, as in training), then packed fp32 and int8.
            for precision in [InferencePrecision?.none, .float32, .int8] {
                if let precision { model.parameters.prepareForInference(precision: precision) }
                let rows = try XCTUnwrap(try model.head.pooledRows(batch), name)
                var noDropout: SplitMix64? = nil
                let pooled = model.encoder.forward(batch, model.parameters, onlyRows: rows, rng: &noDropout, keepCache: false)?.0
                XCTAssertEqual(pooled != nil, takesShortcut, "\(name): shortcut taken")
                let hidden = model.encoder.forward(batch, model.parameters, rng: &noDropout, keepCache: false).0
                let full = model.head.forward(hidden, rows: rows, batch: batch, model.parameters, rng: &noDropout).0
                if let pooled { XCTAssertEqual(pooled.scalars, Pooling.rows(hidden, at: rows).scalars, "\(name) \(precision.map { "\($0)" } ?? "unpacked"): pooled hidden states") }
                XCTAssertEqual(try model.logits(packed).scalars, full.scalars, "\(name) \(precision.map { "\($0)" } ?? "unpacked"): logits")
            }
        }
    }

    /// A batch larger than the token budget of one pass runs in parts (`logits(_:maxTokensPerPass:)`):
    /// the same logits, bit for bit, in every family, and the same error where one pass refuses the batch.
    func testBatchRunInPartsGivesTheLogitsOfOnePass() throws {
        for (folder, _) in cases {
            let name = folder.lastPathComponent
            let (model, batch) = try classifierAndBatch(folder)
            let parts = batch.partitioned(maxTokens: 12)
            XCTAssertGreaterThan(parts.count, 2, name)
            XCTAssertEqual(parts.first?.lowerBound, 0, name)
            XCTAssertEqual(parts.last?.upperBound, batch.sequenceCount, name)
            for (a, b) in zip(parts, parts.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, name) }
            for part in parts {
                let tokens = batch.sequences(part)
                XCTAssertTrue(part.count == 1 || tokens.tokenCount <= 12, "\(name): part \(part) has \(tokens.tokenCount) tokens")
                XCTAssertEqual(tokens.inputIds, Array(batch.inputIds[batch.offsets[part.lowerBound]..<batch.offsets[part.upperBound]]), name)
            }
            for precision in [InferencePrecision?.none, .int8] {
                if let precision { model.parameters.prepareForInference(precision: precision) }
                let label = "\(name) \(precision.map { "\($0)" } ?? "unpacked")"
                do {
                    let whole = try model.logits(batch, maxTokensPerPass: .max)
                    let inParts = try model.logits(batch, maxTokensPerPass: 12)
                    XCTAssertEqual(inParts.shape, whole.shape, label)
                    XCTAssertEqual(inParts.scalars, whole.scalars, label)
                } catch {
                    // A decoder without a padding token takes one sequence per batch, in parts or not.
                    XCTAssertEqual(error, .noPaddingToken, label)
                    XCTAssertThrowsError(try model.logits(batch, maxTokensPerPass: 12), label) { XCTAssertEqual($0 as? ModelInputError, .noPaddingToken, label) }
                }
            }
        }
    }

    /// Training through the pooled rows (the classifier takes the shortcut where the last layer
    /// allows it) gives the gradients of the full pass, every parameter.
    func testTrainingOnPooledRowsGivesTheFullPassGradients() throws {
        let families = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/families")
        let decoders = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/decoders")
        let cases = [(ModelFixtures.folder.appendingPathComponent("tiny-bert-safetensors-fp32"), true),
                     (ModelFixtures.folder.appendingPathComponent("tiny-distilbert-safetensors-fp32"), true),
                     (families.appendingPathComponent("tiny-roberta"), true), (families.appendingPathComponent("tiny-electra"), true),
                     (families.appendingPathComponent("tiny-albert-groups"), true),
                     (families.appendingPathComponent("tiny-modernbert-cls"), false), (families.appendingPathComponent("tiny-mpnet"), false),
                     (decoders.appendingPathComponent("tiny-gpt2"), false), (decoders.appendingPathComponent("tiny-llama"), false)]
        for (folder, takesShortcut) in cases {
            let name = folder.lastPathComponent
            let (model, batch) = try classifierAndBatch(folder)
            let rows = try XCTUnwrap(try model.head.pooledRows(batch), name)
            var noDropout: SplitMix64? = nil
            XCTAssertEqual(model.encoder.forward(batch, model.parameters, onlyRows: rows, rng: &noDropout, keepCache: true) != nil, takesShortcut, name)
            // Dropout without a cache runs the training attention too: the same families only.
            var dropout: SplitMix64? = SplitMix64(seed: 3)
            XCTAssertEqual(model.encoder.forward(batch, model.parameters, onlyRows: rows, rng: &dropout, keepCache: false) != nil, takesShortcut, name)

            // dLoss/dLogits = logits (the loss ½‖logits‖²), through the classifier...
            let (logits, cache) = try model.forward(batch, rng: &noDropout, keepCache: true)
            var viaClassifier = model.parameters.zeros()
            model.backward(logits, cache: try XCTUnwrap(cache, name), batch: batch, grads: &viaClassifier)
            // ...and through the full pass, by hand.
            let (hidden, encoderCache) = model.encoder.forward(batch, model.parameters, rng: &noDropout, keepCache: true)
            let (fullLogits, headCache) = model.head.forward(hidden, rows: rows, batch: batch, model.parameters, rng: &noDropout)
            var viaFullPass = model.parameters.zeros()
            let dHidden = model.head.backward(fullLogits, cache: headCache, batch: batch, model.parameters, grads: &viaFullPass)
            model.encoder.backward(dHidden, cache: try XCTUnwrap(encoderCache, name), batch: batch, model.parameters, grads: &viaFullPass)

            XCTAssertLessThan(logits.maxAbsDifference(fullLogits), 1e-5, name)
            var worst: Float = 0
            for parameter in model.trainableNames {
                let want = viaFullPass[parameter], scale = max(want.scalars.map(abs).max() ?? 0, 1e-6)
                worst = max(worst, viaClassifier[parameter].maxAbsDifference(want) / scale)
            }
            XCTAssertLessThan(worst, 1e-4, "\(name): worst relative gradient difference")
        }
    }

    /// A row outside its sequence, or a count that is not one per sequence, is declined, not computed.
    func testRowsThatAreNotOnePerSequenceAreDeclined() throws {
        let folder = ModelFixtures.folder.appendingPathComponent("tiny-bert-safetensors-fp32")
        let model = try AutoModelForSequenceClassification.from(pretrained: folder.path)
        let batch = PackedBatch(sequences: [[101, 7, 8, 102], [101, 9, 102]])
        func pooled(_ rows: [Int]) -> Tensor? {
            var noDropout: SplitMix64? = nil
            return model.encoder.forward(batch, model.parameters, onlyRows: rows, rng: &noDropout, keepCache: false)?.0
        }
        XCTAssertNotNil(pooled([0, 4]))
        XCTAssertNil(pooled([0]))
        XCTAssertNil(pooled([0, 3]))
        XCTAssertNil(pooled([4, 0]))
        XCTAssertNil(pooled([-1, 4]))
    }
}
