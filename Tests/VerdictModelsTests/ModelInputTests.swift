import Foundation
import XCTest
import VerdictHub
@testable import VerdictModels
import VerdictTokenizers

/// Inputs and files that used to crash the process now give one-line errors naming what is wrong.
final class ModelInputTests: XCTestCase {
    static let decoders = ModelFixtures.repoRoot.appendingPathComponent("Fixtures/decoders")
    static let defaultModel = ModelFixtures.repoRoot.appendingPathComponent("Sources/VerdictDefaultModel/default-sentiment")

    /// A copy of `source` with `edit` applied to its config.json (and, optionally, another tokenizer).
    private func copy(_ source: URL, tokenizerFrom: URL? = nil, edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-input-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: folder)
        if let tokenizerFrom {
            for file in ["tokenizer.json", "tokenizer_config.json"] {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(file))
                try FileManager.default.copyItem(at: tokenizerFrom.appendingPathComponent(file), to: folder.appendingPathComponent(file))
            }
        }
        let url = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return folder
    }

    /// Ids past the embedding table, token types past the type table and sequences past the
    /// position table: errors, before any table is read.
    func testIdsTypesAndPositionsOutsideTheTables() throws {
        let gpt2 = try AutoModelForSequenceClassification.from(pretrained: Self.decoders.appendingPathComponent("tiny-gpt2").path)
        XCTAssertThrowsError(try gpt2.logits(PackedBatch(sequences: [[5, 400]]))) { error in
            XCTAssertEqual(error as? ModelInputError, .tokenIdOutOfRange(id: 400, vocabularySize: 400))
        }
        XCTAssertThrowsError(try gpt2.logits(PackedBatch(sequences: [[Int](repeating: 5, count: 65)]))) { error in
            XCTAssertEqual(error as? ModelInputError, .sequenceTooLong(length: 65, maximum: 64))
        }
        XCTAssertNoThrow(try gpt2.logits(PackedBatch(sequences: [[Int](repeating: 5, count: 64)])))
        let bert = try AutoModelForSequenceClassification.from(pretrained: Self.defaultModel.path)
        XCTAssertThrowsError(try bert.logits(PackedBatch(sequences: [[101, 102]], tokenTypes: [[0, 2]]))) { error in
            XCTAssertEqual(error as? ModelInputError, .tokenTypeOutOfRange(type: 2, typeVocabularySize: 2))
        }
        let base = try AutoModel.from(pretrained: Self.defaultModel.path)
        XCTAssertThrowsError(try base(PackedBatch(sequences: [[Int](repeating: 1000, count: 513)]))) { error in
            XCTAssertTrue("\(error)".contains("longer than the model takes (512)"), "\(error)")
        }
    }

    /// A tokenizer paired with another model's checkpoint is refused at load, naming the folder.
    func testTokenizerOfAnotherModel() throws {
        // tiny-llama's tokenizer produces ids up to 499; tiny-gpt2's table has 400 rows.
        let folder = try copy(Self.decoders.appendingPathComponent("tiny-gpt2"), tokenizerFrom: Self.decoders.appendingPathComponent("tiny-llama"))
        let model = try AutoModelForSequenceClassification.from(pretrained: folder.path)
        XCTAssertThrowsError(try model.checkCompatible(with: try AutoTokenizer.from(folder: folder), folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("produces ids up to 499"), "\(error)")
            XCTAssertTrue("\(error)".contains(folder.path), "\(error)")
        }
    }

    /// Absurd sizes in config.json fail on the key, or before allocating what the checkpoint lacks.
    func testAbsurdConfigSizes() throws {
        let tooMany = try copy(Self.defaultModel) { $0["num_hidden_layers"] = 100_000_000 }
        XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: tooMany.path)) { error in
            XCTAssertTrue("\(error)".contains("$.num_hidden_layers: expected at most 4096"), "\(error)")
        }
        // 4,000 MiniLM layers are 7 billion parameters the checkpoint does not have.
        let lacking = try copy(Self.defaultModel) { $0["num_hidden_layers"] = 4000 }
        XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: lacking.path)) { error in
            XCTAssertTrue("\(error)".contains("check num_hidden_layers"), "\(error)")
        }
        // A custom head's width allocates its weights: zero or absurd is a broken file (zero divided by zero).
        for width in [0, -3, 1 << 40] {
            let head = try copy(Self.defaultModel) { $0["verdict_classifier_head"] = ["pooling": "mean", "hidden_width": width] }
            XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: head.path)) { error in
                XCTAssertTrue("\(error)".contains("hidden_width"), "\(error)")
            }
        }
        let wide = try copy(Self.defaultModel) { $0["hidden_size"] = 1 << 20; $0["num_attention_heads"] = 1 << 10 }
        XCTAssertThrowsError(try AutoModelForSequenceClassification.from(pretrained: wide.path)) { error in
            XCTAssertTrue("\(error)".contains("model expects"), "\(error)")
        }
    }
}
