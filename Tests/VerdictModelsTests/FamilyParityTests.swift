import Foundation
import XCTest
import VerdictHub
@testable import VerdictModels
import VerdictTensor
import VerdictTokenizers

/// Every encoder family against PyTorch `transformers`, on tiny random checkpoints saved by
/// `transformers` itself (tools/make_family_fixtures.py): token ids, logits of 104 texts and 12
/// pairs, and the base model's last hidden states.
final class FamilyParityTests: XCTestCase {
    /// The family checkpoints Verdict loads; `FamilyFixtures.pending` lists the generated ones it does not yet.
    static let supported = ["tiny-roberta", "tiny-xlm-roberta", "tiny-camembert", "tiny-electra", "tiny-albert", "tiny-albert-groups",
                            "tiny-mpnet", "tiny-modernbert", "tiny-modernbert-cls", "tiny-longformer", "tiny-deberta-v2", "tiny-deberta-v2-classic"]

    func testEveryGeneratedCheckpointIsSupportedOrListedAsPending() throws {
        let generated = try FamilyFixtures.golden().keys.sorted()
        XCTAssertEqual(generated, (Self.supported + FamilyFixtures.pending).sorted())
        for name in FamilyFixtures.pending {
            XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: FamilyFixtures.folder(name).path), name)
        }
    }

    func testTokenIdsAndLogits() throws {
        let golden = try FamilyFixtures.golden()
        for name in Self.supported {
            let g = try XCTUnwrap(golden[name], name)
            let dir = FamilyFixtures.folder(name)
            let model = try AutoModelForSequenceClassification.from(pretrained: dir.path)
            XCTAssertEqual(model.loadReport.missingKeys, [], name)
            XCTAssertEqual(model.loadReport.unexpectedKeys, [], name)
            let tokenizer = try AutoTokenizer.from(folder: dir)
            let texts = g["texts"] as! [String], pairs = (g["pairs"] as! [[String]]).map { ($0[0], $0[1]) }
            let options = TokenizationOptions(truncation: .longestFirst, maxLength: tokenizer.modelMaxLength)
            let encodings = try tokenizer.encodeBatch(texts, options: options)
            XCTAssertEqual(encodings.map(\.ids), g["input_ids"] as! [[Int]], "\(name) token ids")
            var pairEncodings = try tokenizer.encodeBatch(pairs.map(\.0), pairs: pairs.map(\.1), options: options)
            if !tokenizer.returnsTokenTypeIds {
                for i in pairEncodings.indices { pairEncodings[i].typeIds = pairEncodings[i].typeIds.map { _ in 0 } }
            }
            var worst: Float = 0
            for (encodings, key) in [(encodings, "logits"), (pairEncodings, "pair_logits")] {
                let want = doubles(g[key])
                // In batches of 8, as the reference ran them (padded there, packed here).
                for start in stride(from: 0, to: encodings.count, by: 8) {
                    let chunk = Array(encodings[start..<min(start + 8, encodings.count)])
                    let got = try model.logits(PackedBatch(encodings: chunk))
                    let expected = Tensor(shape: got.shape, scalars: want[start..<(start + chunk.count)].flatMap { $0 }.map(Float.init))
                    worst = max(worst, got.maxAbsDifference(expected))
                }
            }
            print("family parity \(name): logits of \(texts.count) texts and \(pairs.count) pairs, max |Δ| \(worst)")
            XCTAssertLessThan(worst, 1e-5, name)
        }
    }

    func testBaseModelHiddenStates() throws {
        let golden = try FamilyFixtures.golden()
        for name in Self.supported {
            let g = try XCTUnwrap(golden[name], name)
            let dir = FamilyFixtures.folder(name)
            let model = try AutoModel.from(pretrained: dir.path)
            let file = try SafeTensorsFile(url: FamilyFixtures.root.appendingPathComponent("\(name).hidden.safetensors"))
            let ids = g["input_ids"] as! [[Int]]
            var worst: Float = 0
            for i in 0..<(g["hidden_texts"] as! Int) {
                let expected = try file.tensor("hidden.\(i)")
                let got = try model(PackedBatch(sequences: [ids[i]])).lastHiddenState
                XCTAssertEqual(got.shape, expected.shape, "\(name) text \(i)")
                if got.shape == expected.shape { worst = max(worst, got.maxAbsDifference(expected)) }
            }
            print("family parity \(name): last_hidden_state of \(g["hidden_texts"] as! Int) texts, max |Δ| \(worst)")
            XCTAssertLessThan(worst, 1e-4, name)
        }
    }

    /// Options a family does not support, or values that cannot work, fail with the key's JSON path.
    func testFamilyConfigErrorsNameTheKey() throws {
        let base = #""vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 8"#
        func error(_ json: String) -> String {
            do { _ = try makeBackbone(try ModelConfig(data: Data("{\(base), \(json)}".utf8))); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error(#""model_type": "longformer", "attention_window": 3"#).contains("$.attention_window"))
        XCTAssertTrue(error(#""model_type": "longformer", "attention_window": [4]"#).contains("$.attention_window"))
        XCTAssertTrue(error(#""model_type": "albert", "num_hidden_groups": 3"#).contains("$.num_hidden_groups"))
        XCTAssertTrue(error(#""model_type": "mpnet", "relative_attention_num_buckets": 8"#).contains("$.relative_attention_num_buckets"))
        XCTAssertTrue(error(#""model_type": "modernbert", "classifier_pooling": "max""#).contains("$.classifier_pooling"))
        XCTAssertTrue(error(#""model_type": "modernbert", "layer_types": ["full_attention"]"#).contains("$.layer_types"))
        XCTAssertTrue(error(#""model_type": "deberta-v2", "conv_kernel_size": 3"#).contains("conv_kernel_size"))
        XCTAssertTrue(error(#""model_type": "t5""#).contains("model_type \"t5\""))
        XCTAssertEqual(error(#""model_type": "longformer", "attention_window": [4, 6]"#), "")
    }

    /// Norm weights a checkpoint lacks start at one, whatever the family calls them (ModernBERT's
    /// `head.norm`, `attn_norm`; BERT's `LayerNorm`; DistilBERT's `sa_layer_norm`), as in `transformers`.
    func testFreshNormWeightsStartAtOne() {
        var rng = SplitMix64(seed: 1)
        for name in ["head.norm.weight", "model.layers.1.attn_norm.weight", "model.final_norm.weight", "bert.embeddings.LayerNorm.weight",
                     "distilbert.transformer.layer.0.sa_layer_norm.weight"] {
            XCTAssertEqual(ParameterLoader.initialTensor(name, [4], rng: &rng).scalars, [1, 1, 1, 1], name)
        }
        XCTAssertNotEqual(ParameterLoader.initialTensor("head.dense.weight", [4], rng: &rng).scalars, [1, 1, 1, 1])
        XCTAssertEqual(ParameterLoader.initialTensor("head.norm.bias", [2], rng: &rng).scalars, [0, 0])
    }

    /// MPNet's bucket function is float32 arithmetic in `transformers`; it must agree at every
    /// distance a 512-token input has, including the exact powers of two where rounding could flip a bucket.
    func testRelativeBucketsOfLongInputs() throws {
        let golden = try FamilyFixtures.mpnetBuckets()
        let bias = RelativePositionBias(table: "")
        XCTAssertEqual(golden.distances.map(bias.bucket), golden.buckets)
    }
}

/// Paths of the family fixtures.
enum FamilyFixtures {
    static let root = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/families")
    /// Generated checkpoints of families not implemented yet.
    static let pending: [String] = []

    static func folder(_ name: String) -> URL { root.appendingPathComponent(name) }

    static func golden() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("families.golden.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    }

    static func mpnetBuckets() throws -> (distances: [Int], buckets: [Int]) {
        let data = try Data(contentsOf: root.appendingPathComponent("mpnet-buckets.json"))
        let object = try JSONSerialization.jsonObject(with: data) as! [String: [Int]]
        return (object["distances"]!, object["buckets"]!)
    }
}
