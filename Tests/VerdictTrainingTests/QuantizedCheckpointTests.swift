import Foundation
import XCTest
@testable import VerdictHub
@testable import VerdictModels
import VerdictTensor
import VerdictTokenizers
@testable import VerdictTraining

/// `ModelSaving.saveQuantized` (`verdict quantize`): the int8 folder reloads computing in int8 with
/// exactly the scores of `--dtype int8` on the original, reads back in fp32 as the dequantised
/// weights, and refuses hostile int8 tensors and foreign quantisation methods.
final class QuantizedCheckpointTests: XCTestCase {
    static let root = GradientParityTests.root
    /// BERT (fp32 safetensors), GPT-2 (Conv1D weights stored transposed), LLaMA (gate/up, GQA), mBART (cross-attention).
    static let models = [root.appendingPathComponent("Fixtures/models/tiny-bert-safetensors-fp32"),
                         root.appendingPathComponent("Fixtures/decoders/tiny-gpt2"),
                         root.appendingPathComponent("Fixtures/decoders/tiny-llama"),
                         root.appendingPathComponent("Fixtures/decoders/tiny-mbart")]

    private func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("verdict-int8-\(UUID().uuidString)")
    }

    /// Two texts in one batch, or one batch each for a decoder without pad_token_id.
    private func batches(_ folder: URL, oneEach: Bool) throws -> [PackedBatch] {
        let tokenizer = try AutoTokenizer.from(folder: folder)
        let encodings = try tokenizer.encodeBatch(["a short text", "and another, longer one than that"])
        let groups = oneEach ? encodings.map { [$0] } : [encodings]
        return groups.map { PackedBatch(encodings: $0, tokenTypes: tokenizer.returnsTokenTypeIds) }
    }

    func testQuantizedFolderReloadsWithTheSameInt8Scores() throws {
        for source in Self.models {
            let out = temporaryFolder()
            defer { try? FileManager.default.removeItem(at: out) }
            let dynamic = try AutoModelForSequenceClassification.from(pretrained: source.path)
            let float = try AutoModelForSequenceClassification.from(pretrained: source.path)
            let inputs = try batches(source, oneEach: dynamic.maxBatchSequences == 1)
            try ModelSaving.saveQuantized(try AutoModelForSequenceClassification.from(pretrained: source.path), tokenizerFolder: source, to: out)
            dynamic.prepareForInference(precision: .int8)
            let loaded = try AutoModelForSequenceClassification.from(pretrained: out.path)
            XCTAssertTrue(loaded.config.isQuantized)
            XCTAssertEqual(loaded.parameters.precision, .int8, source.lastPathComponent)
            XCTAssertEqual(loaded.loadReport.missingKeys, [], source.lastPathComponent)
            XCTAssertEqual(loaded.loadReport.unexpectedKeys, [], source.lastPathComponent)
            XCTAssertEqual(loaded.parameters.names, float.parameters.names, "names keep the model's order")
            loaded.prepareForInference()
            for input in inputs {
                let want = try dynamic.logits(input), got = try loaded.logits(input), exact = try float.logits(input)
                XCTAssertEqual(got.scalars, want.scalars, "\(source.lastPathComponent): the int8 folder computes exactly what --dtype int8 does")
                XCTAssertLessThan(got.maxAbsDifference(exact), 0.05 * max(1, exact.scalars.map(abs).max()!), source.lastPathComponent)
            }
            // Asked for fp32, the int8 folder computes with the dequantised weights.
            let asFloat = try AutoModelForSequenceClassification.from(pretrained: out.path)
            asFloat.prepareForInference(precision: .float32)
            XCTAssertEqual(asFloat.parameters.precision, .float32)
            let name = try XCTUnwrap(loaded.parameters.names.first { loaded.parameters.quantizedWeight($0) != nil })
            XCTAssertEqual(asFloat.parameters[name].scalars, dynamic.parameters[name].scalars, "dequantised weights")
            for input in inputs { XCTAssertLessThan(try asFloat.logits(input).maxAbsDifference(try loaded.logits(input)), 0.05 * max(1, try float.logits(input).scalars.map(abs).max()!)) }
            // Saved again in fp32 (e.g. after fine-tuning), the config no longer claims int8.
            let again = temporaryFolder()
            defer { try? FileManager.default.removeItem(at: again) }
            try ModelSaving.save(asFloat, tokenizerFolder: out, to: again)
            XCTAssertFalse(try ModelConfig(folder: again).isQuantized)
            XCTAssertFalse(try String(contentsOf: again.appendingPathComponent("config.json"), encoding: .utf8).contains("quantization_config"))
        }
    }

    /// `verdict quantize --dtype bfloat16`: a plain bfloat16 checkpoint (every tensor rounded, as
    /// `model.to(torch.bfloat16)` saves it) that reloads computing in bfloat16 by default, with
    /// exactly the scores of float32 panels of the same weights; a model with a fresh head, or
    /// changed by training, no longer defaults to bfloat16.
    func testBFloat16FolderReloadsComputingInBFloat16() throws {
        for source in Self.models {
            let out = temporaryFolder()
            defer { try? FileManager.default.removeItem(at: out) }
            let original = try AutoModelForSequenceClassification.from(pretrained: source.path)
            XCTAssertEqual(original.parameters.defaultInferencePrecision, .float32, source.lastPathComponent)
            let inputs = try batches(source, oneEach: original.maxBatchSequences == 1)
            try ModelSaving.save(try AutoModelForSequenceClassification.from(pretrained: source.path), tokenizerFolder: source, to: out, dtype: .bfloat16)
            XCTAssertTrue(try SafeTensorsFile(url: out.appendingPathComponent("model.safetensors")).names.allSatisfy {
                try SafeTensorsFile(url: out.appendingPathComponent("model.safetensors")).dtype(of: $0) == .bfloat16 })
            let loaded = try AutoModelForSequenceClassification.from(pretrained: out.path)
            XCTAssertEqual(loaded.parameters.defaultInferencePrecision, .bfloat16, source.lastPathComponent)
            XCTAssertEqual(loaded.parameters.precision, .float32, "not packed before prepareForInference")
            loaded.prepareForInference()
            XCTAssertEqual(loaded.parameters.precision, .bfloat16, source.lastPathComponent)
            let asFloat = try AutoModelForSequenceClassification.from(pretrained: out.path)
            asFloat.prepareForInference(precision: .float32)
            for input in inputs {
                let got = try loaded.logits(input), exact = try original.logits(input)
                XCTAssertEqual(got.scalars, try asFloat.logits(input).scalars, "\(source.lastPathComponent): its weights are bfloat16 already, so float32 panels give the same bits")
                XCTAssertLessThan(got.maxAbsDifference(exact), 0.02 * max(1, exact.scalars.map(abs).max()!), source.lastPathComponent)
            }
            // A changed weight is no longer the checkpoint's bfloat16 value.
            let trained = try AutoModelForSequenceClassification.from(pretrained: out.path)
            let name = try XCTUnwrap(trained.parameters.names.first)
            trained.parameters.modify(name) { $0.scalars[0] += 1e-3 }
            XCTAssertEqual(trained.parameters.defaultInferencePrecision, .float32)
            // A new head (fresh float32 weights) keeps float32.
            let relabelled = try AutoModelForSequenceClassification.from(pretrained: out.path, labels: ["a", "b", "c", "d", "e", "f", "g"])
            XCTAssertFalse(relabelled.loadReport.missingKeys.isEmpty, source.lastPathComponent)
            XCTAssertEqual(relabelled.parameters.defaultInferencePrecision, .float32, source.lastPathComponent)
        }
    }

    func testHostileInt8TensorsAndForeignMethodsAreRefused() throws {
        let source = Self.models[0], out = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: out) }
        try ModelSaving.saveQuantized(try AutoModelForSequenceClassification.from(pretrained: source.path), tokenizerFolder: source, to: out)
        let weights = out.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(url: weights)
        let name = try XCTUnwrap(file.names.first { file.isQuantizedWeight($0) })
        var stored: [SafeTensorsFile.StoredTensor] = []
        for n in file.names {
            let e = file.entries.first { $0.name == n }!.entry
            if n == name {
                stored.append(.init(name: n, dtype: .int8, shape: e.shape, bytes: Data(repeating: 100, count: e.shape.reduce(1, *))))
            } else if n == name + QuantizedLayout.scaleSuffix {
                stored.append(.init(name: n, Tensor(shape: e.shape, repeating: 1), dtype: .float32))
            } else {
                stored.append(.init(name: n, try file.tensor(n), dtype: e.dtype == .int8 ? .float32 : e.dtype))
                if e.dtype == .int8 { stored[stored.count - 1] = .init(name: n, dtype: .int8, shape: e.shape, bytes: Data(repeating: 1, count: e.shape.reduce(1, *))) }
            }
        }
        let hostile = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: hostile) }
        try FileManager.default.copyItem(at: out, to: hostile)
        try SafeTensorsFile.write(stored: stored, to: hostile.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: hostile.path)) { error in
            XCTAssertTrue("\(error)".contains("±63"), "\(error)")
        }
        // Scales of the wrong length.
        stored = stored.map { $0.name == name + QuantizedLayout.scaleSuffix ? .init(name: $0.name, Tensor(shape: [3], repeating: 1), dtype: .float32) : $0 }
        try SafeTensorsFile.write(stored: stored, to: hostile.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: hostile.path)) { error in
            XCTAssertTrue("\(error)".contains("F32 ["), "\(error)")
        }
        // Another tool's quantisation is named, not misread.
        var config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        config = config.replacingOccurrences(of: "{", with: "{\"quantization_config\": {\"quant_method\": \"bitsandbytes\", \"load_in_8bit\": true},", options: [], range: config.range(of: "{"))
        try config.write(to: hostile.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelConfig(folder: hostile)) { error in
            XCTAssertTrue("\(error)".contains("quant_method") && "\(error)".contains("verdict_int8"), "\(error)")
        }
    }
}
