import Foundation
import XCTest
@testable import VerdictTokenizers

/// The ids printed in the Hugging Face course and in tutorials, with the bert-base-uncased
/// vocabulary (the expected values are the ones those tutorials print, produced by `transformers`).
final class TutorialTests: XCTestCase {
    private func miniLM() throws -> Tokenizer {
        guard let dir = TestPaths.miniLM else { throw XCTSkip("MiniLM weights not found: run tools/fetch_weights.sh or set VERDICT_MINILM_DIR") }
        return try AutoTokenizer.from(folder: dir)
    }

    func testCourseSentencesBatchedWithPadding() throws {
        let tokenizer = try miniLM()
        let batch = try tokenizer(
            ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"],
            options: TokenizationOptions(padding: .longest, truncation: .longestFirst))
        XCTAssertEqual(batch.inputIds[0], [101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102])
        XCTAssertEqual(batch.inputIds[1], [101, 1045, 5223, 2023, 2061, 2172, 999, 102] + Array(repeating: 0, count: 8))
        XCTAssertEqual(batch.attentionMask[1], Array(repeating: 1, count: 8) + Array(repeating: 0, count: 8))
        XCTAssertEqual(batch.attentionMask[0], Array(repeating: 1, count: 16))
    }

    func testWordPiecePieces() throws {
        let e = try miniLM().encode("I like BUAN6342")
        XCTAssertEqual(e.tokens, ["[CLS]", "i", "like", "bu", "##an", "##6", "##34", "##2", "[SEP]"])
    }

    func testDecodeSkipsSpecialTokens() throws {
        let tokenizer = try miniLM()
        let e = try tokenizer.encode("Hello, world!")
        XCTAssertEqual(tokenizer.decode(e.ids, skipSpecialTokens: true), "hello, world!")
        XCTAssertEqual(tokenizer.decode(e.ids), "[CLS] hello, world! [SEP]")
    }
}

/// Malformed files and unknown components give errors that name the file, the JSON path and the expectation.
final class TokenizerErrorTests: XCTestCase {
    private func write(_ json: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try json.write(to: dir.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        return dir
    }

    private func message(_ json: String) throws -> String {
        do {
            _ = try AutoTokenizer.from(folder: try write(json))
        } catch let e as TokenizerError {
            return e.description
        }
        XCTFail("expected an error")
        return ""
    }

    let model = #"{"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}}"#

    func testUnknownComponentNamesPathAndKnownTypes() throws {
        let m = try message(#"{"normalizer": {"type": "Sparkle"}, "model": \#(model)}"#)
        XCTAssertTrue(m.contains("$.normalizer.type"), m)
        XCTAssertTrue(m.contains("Sparkle"), m)
        XCTAssertTrue(m.contains("BertNormalizer"), m)
        XCTAssertTrue(m.contains("tokenizer.json"), m)
    }

    func testWrongTypeNamesPath() throws {
        let m = try message(#"{"pre_tokenizer": {"type": "Digits", "individual_digits": "yes"}, "model": \#(model)}"#)
        XCTAssertTrue(m.contains("$.pre_tokenizer.individual_digits"), m)
        XCTAssertTrue(m.contains("true or false"), m)
    }

    func testMissingUnknownToken() throws {
        let m = try message(#"{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}}}"#)
        XCTAssertTrue(m.contains("$.model"), m)
        XCTAssertTrue(m.contains("[UNK]"), m)
    }

    func testTruncatedJSON() throws {
        let m = try message(#"{"model": {"type": "WordPiece", "vocab": {"a": "#)
        XCTAssertTrue(m.contains("not valid JSON"), m)
    }

    func testNegativeIdsAndBadMerges() throws {
        XCTAssertTrue(try message(#"{"model": {"type": "WordLevel", "unk_token": "a", "vocab": {"a": -1}}}"#).contains("$.model.vocab"))
        let m = try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#)
        XCTAssertTrue(m.contains("$.model"), m)
    }

    func testEmptyFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        XCTAssertThrowsError(try AutoTokenizer.from(folder: dir)) { error in
            XCTAssertEqual(error as? TokenizerError, .noTokenizerFiles(folder: dir.path))
        }
    }

    func testStrideNotSmallerThanRoomIsAnError() throws {
        let t = try AutoTokenizer.from(folder: TestPaths.fixtures.appendingPathComponent("wordpiece-cased"))
        XCTAssertThrowsError(try t.encode("a b c d e f g h i j", options: TokenizationOptions(truncation: .longestFirst, maxLength: 4, stride: 2)))
    }

    func testVocabularyKeysAreExactScalars() throws {
        // ";" and U+037E are canonically equivalent: Swift's String == would merge them.
        let dir = try write(#"{"model": {"type": "WordLevel", "unk_token": "?", "vocab": {"?": 0, ";": 1, "\u037e": 2}}, "pre_tokenizer": {"type": "WhitespaceSplit"}}"#)
        let t = try AutoTokenizer.from(folder: dir)
        XCTAssertEqual(try t.encode("; \u{37E}").ids, [1, 2])
    }
}
