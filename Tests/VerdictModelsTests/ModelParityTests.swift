import Foundation
import XCTest
import VerdictHub
import VerdictModels
import VerdictTensor
import VerdictTokenizers

/// Hidden states, pooler outputs, embeddings and logits against PyTorch `transformers`
/// (goldens from tools/make_model_fixtures.py).
final class ModelParityTests: XCTestCase {
    func testMiniLMHiddenStatesPoolerAndEmbeddings() throws {
        try checkRealWeights(golden: "minilm", folder: try ModelFixtures.miniLM(), width: 384)
    }

    func testMPNetHiddenStatesAndEmbeddings() throws {
        try checkRealWeights(golden: "mpnet", folder: try ModelFixtures.realWeights("mpnet", "x/all_mpnet_base_v2/all-mpnet-base-v2"), width: 768)
    }

    /// Real pretrained weights against `transformers` on 210 texts (goldens from
    /// tools/make_model_fixtures.py and tools/make_real_weight_fixtures.py): sampled rows of
    /// `last_hidden_state`, the pooler output where the golden has one, the normalised mean embedding.
    func checkRealWeights(golden name: String, folder dir: URL, width h: Int) throws {
        let model = try AutoModel.from(pretrained: dir.path)
        XCTAssertEqual(model.loadReport.missingKeys, [], name)
        let tokenizer = try AutoTokenizer.from(folder: dir)
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: ModelFixtures.folder.appendingPathComponent("\(name).golden.json"))) as! [String: Any]
        let texts = meta["texts"] as! [String], lengths = meta["lengths"] as! [Int], rows = meta["rows"] as! [[Int]]
        let golden = try SafeTensorsFile(url: ModelFixtures.folder.appendingPathComponent("\(name).golden.safetensors"))
        let hasPooler = golden.names.contains("pooler.0")
        XCTAssertGreaterThanOrEqual(texts.count, 200)
        var worstHidden: Float = 0, worstPooler: Float = 0, worstEmbedding: Float = 0
        for start in stride(from: 0, to: texts.count, by: 16) {
            let batchTexts = Array(texts[start..<min(start + 16, texts.count)])
            let encodings = try tokenizer.encodeBatch(batchTexts, options: TokenizationOptions(truncation: .longestFirst, maxLength: 512))
            let batch = PackedBatch(encodings: encodings)
            let out = try model(batch)
            let embeddings = try model.embeddings(batch)
            for j in 0..<batchTexts.count {
                let i = start + j
                XCTAssertEqual(batch.lengths[j], lengths[i], "token count of text \(i)")
                let expectedRows = try golden.tensor("rows.\(i)")
                for (r, row) in rows[i].enumerated() {
                    for c in 0..<h {
                        let got = out.lastHiddenState.scalars[(batch.offsets[j] + row) * h + c]
                        worstHidden = max(worstHidden, abs(got - expectedRows.scalars[r * h + c]))
                    }
                }
                let embedding = try golden.tensor("embedding.\(i)")
                let pooler = hasPooler ? try golden.tensor("pooler.\(i)") : nil
                for c in 0..<h {
                    if let pooler { worstPooler = max(worstPooler, abs(out.poolerOutput!.scalars[j * h + c] - pooler.scalars[c])) }
                    worstEmbedding = max(worstEmbedding, abs(embeddings.scalars[j * h + c] - embedding.scalars[c]))
                }
            }
        }
        print("\(name) parity over \(texts.count) texts: max |Δ| last_hidden_state \(worstHidden)\(hasPooler ? ", pooler_output \(worstPooler)" : ""), embedding \(worstEmbedding)")
        XCTAssertLessThan(worstHidden, 1e-4)
        XCTAssertLessThan(worstPooler, 1e-4)
        XCTAssertLessThan(worstEmbedding, 1e-5)
    }

    func testTutorialShapes() throws {
        let dir = try ModelFixtures.miniLM()
        let model = try AutoModel.from(pretrained: dir.path)
        let tokenizer = try AutoTokenizer.from(folder: dir)
        let texts = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
        let encodings = try tokenizer.encodeBatch(texts, options: TokenizationOptions(padding: .longest))
        let out = try model(PackedBatch(encodings: encodings))
        XCTAssertEqual(Pooling.padded(out.lastHiddenState, offsets: out.offsets).shape, [2, 16, 384])
        let classifier = try AutoModelForSequenceClassification.from(pretrained: dir.path, labels: ["NEGATIVE", "POSITIVE"])
        XCTAssertNotNil(classifier.loadReport.warning)
        XCTAssertEqual(classifier.loadReport.missingKeys, ["classifier.weight", "classifier.bias"])
        XCTAssertEqual(try classifier.logits(PackedBatch(encodings: encodings)).shape, [2, 2])
    }

    func testTinyClassifierLogits() throws {
        let golden = try ModelFixtures.tinyGolden()
        for name in ModelFixtures.tinyModels {
            let dir = ModelFixtures.folder.appendingPathComponent(name)
            let model = try AutoModelForSequenceClassification.from(pretrained: dir.path)
            XCTAssertEqual(model.loadReport.missingKeys, [], name)
            XCTAssertEqual(model.loadReport.unexpectedKeys, [], name)
            let tokenizer = try AutoTokenizer.from(folder: dir)
            let g = golden[name]!
            let texts = g["texts"] as! [String], pairs = (g["pairs"] as! [[String]]).map { ($0[0], $0[1]) }
            let options = TokenizationOptions(truncation: .longestFirst, maxLength: 64)
            let logits = try model.logits(PackedBatch(encodings: try tokenizer.encodeBatch(texts, options: options)))
            let pairLogits = try model.logits(PackedBatch(encodings: try tokenizer.encodeBatch(pairs.map(\.0), pairs: pairs.map(\.1), options: options)))
            for (got, want) in [(logits, doubles(g["logits"])), (pairLogits, doubles(g["pair_logits"]))] {
                let flat = want.flatMap { $0 }.map(Float.init)
                XCTAssertEqual(got.shape, [want.count, want[0].count], name)
                let diff = got.maxAbsDifference(Tensor(shape: got.shape, scalars: flat))
                if diff > 1e-5 { for r in 0..<want.count { print(name, r, got.scalars[(r * want[0].count)..<((r + 1) * want[0].count)], want[r]) } }
                XCTAssertLessThan(diff, 1e-5, name)
            }
        }
    }

    /// Packed weights give the same logits, and a weight changed after packing is not served stale.
    func testPackedInferenceWeightsFollowChanges() throws {
        let dir = ModelFixtures.folder.appendingPathComponent(ModelFixtures.tinyModels[0])
        let plain = try AutoModelForSequenceClassification.from(pretrained: dir.path)
        let prepared = try AutoModelForSequenceClassification.from(pretrained: dir.path)
        prepared.parameters.prepareForInference()
        let tokenizer = try AutoTokenizer.from(folder: dir)
        let batch = PackedBatch(encodings: try tokenizer.encodeBatch(["a short text", "and another, longer one than that"]))
        XCTAssertEqual(try prepared.logits(batch).scalars, try plain.logits(batch).scalars)
        let name = try XCTUnwrap(plain.parameters.names.first { $0.hasSuffix("layer.0.attention.self.query.weight") || $0.hasSuffix("layer.0.attention.q_lin.weight") })
        for model in [plain, prepared] { model.parameters.modify(name) { w in for i in 0..<w.count { w.scalars[i] *= -3 } } }
        let changed = try plain.logits(batch)
        XCTAssertGreaterThan(changed.maxAbsDifference(try AutoModelForSequenceClassification.from(pretrained: dir.path).logits(batch)), 0)
        XCTAssertEqual(try prepared.logits(batch).scalars, changed.scalars)
    }

    /// A model readied for predictions keeps only the packed copy of each backbone weight: logits
    /// bit for bit the same, every weight still readable exactly (for saving), and changing any
    /// weight brings the dense copies back (so it can still be trained).
    func testReleasedDenseWeightsStayExact() throws {
        for dir in [ModelFixtures.folder.appendingPathComponent(ModelFixtures.tinyModels[0]),
                    ModelFixtures.repoRoot.appendingPathComponent("Fixtures/decoders/tiny-llama"),
                    ModelFixtures.repoRoot.appendingPathComponent("Fixtures/decoders/tiny-gpt2")] {
            let plain = try AutoModelForSequenceClassification.from(pretrained: dir.path)
            let prepared = try AutoModelForSequenceClassification.from(pretrained: dir.path)
            let before = prepared.parameters.scalarCount
            prepared.prepareForInference()
            XCTAssertLessThan(prepared.parameters.tensors.count, plain.parameters.tensors.count, "dense copies released")
            XCTAssertEqual(prepared.parameters.scalarCount, before)
            let tokenizer = try AutoTokenizer.from(folder: dir)
            let batch = PackedBatch(encodings: try tokenizer.encodeBatch(["a short text", "and another, longer one than that"]),
                                    tokenTypes: tokenizer.returnsTokenTypeIds)
            XCTAssertEqual(try prepared.logits(batch).scalars, try plain.logits(batch).scalars, dir.lastPathComponent)
            for name in plain.parameters.names { XCTAssertEqual(prepared.parameters[name].scalars, plain.parameters[name].scalars, name) }
            let name = try XCTUnwrap(plain.parameters.names.first { $0.hasSuffix(".weight") && plain.parameters[$0].rank == 2 && $0.contains("layers.0.") || $0.contains("layer.0.attention.self.query.weight") || $0.contains("h.0.attn.c_attn.weight") })
            for model in [plain, prepared] { model.parameters.modify(name) { w in for i in 0..<w.count { w.scalars[i] *= -3 } } }
            XCTAssertEqual(prepared.parameters.tensors.count, plain.parameters.tensors.count, "dense copies back after a change")
            XCTAssertEqual(try prepared.logits(batch).scalars, try plain.logits(batch).scalars, dir.lastPathComponent)
        }
    }
}
