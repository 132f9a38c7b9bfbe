import Foundation
import XCTest
@testable import VerdictTokenizers

/// Every golden case produced by `tools/make_tokenizer_fixtures.py` (HF `transformers` fast
/// tokenizers) must come out identical: ids, type ids, attention mask, special-tokens mask,
/// offsets and (where recorded) tokens and decoded text.
final class GoldenParityTests: XCTestCase {
    func testBertUncasedFromTokenizerJSON() throws {
        guard let dir = TestPaths.miniLM else { throw XCTSkip("MiniLM weights not found: run tools/fetch_weights.sh or set VERDICT_MINILM_DIR") }
        try check(folder: dir, golden: "bert-uncased-json")
    }

    func testBertUncasedFromVocabTxt() throws {
        guard let dir = try TestPaths.miniLMVocabOnly() else { throw XCTSkip("MiniLM weights not found: run tools/fetch_weights.sh or set VERDICT_MINILM_DIR") }
        try check(folder: dir, golden: "bert-uncased-json")
    }

    func testCasedWordPiece() throws { try check(folder: TestPaths.fixtures.appendingPathComponent("wordpiece-cased"), golden: "wordpiece-cased") }
    func testByteLevelBPE() throws { try check(folder: TestPaths.fixtures.appendingPathComponent("bpe-bytelevel"), golden: "bpe-bytelevel") }
    func testByteLevelBPEFromVocabAndMerges() throws {
        try check(folder: TestPaths.fixtures.appendingPathComponent("bpe-bytelevel-legacy"), golden: "bpe-bytelevel-legacy")
    }
    func testByteFallbackBPE() throws { try check(folder: TestPaths.fixtures.appendingPathComponent("bpe-byte-fallback"), golden: "bpe-byte-fallback") }
    func testWordSuffixBPE() throws { try check(folder: TestPaths.fixtures.appendingPathComponent("bpe-word-suffix"), golden: "bpe-word-suffix") }
    func testUnigramMetaspace() throws { try check(folder: TestPaths.fixtures.appendingPathComponent("unigram-metaspace"), golden: "unigram-metaspace") }
    /// A `sentencepiece` model converted as `transformers` converts ALBERT (Precompiled charsmap normalizer).
    func testSentencePiecePrecompiled() throws {
        try check(folder: TestPaths.fixtures.appendingPathComponent("unigram-precompiled"), golden: "unigram-precompiled")
    }

    private func check(folder: URL, golden: String) throws {
        let tokenizer = try AutoTokenizer.from(folder: folder)
        let cases = try TestPaths.readGzipLines(TestPaths.fixtures.appendingPathComponent("\(golden).golden.jsonl.gz"))
        XCTAssertGreaterThan(cases.count, 2000)
        var failures: [String] = []
        var perKind: [String: (ok: Int, all: Int)] = [:]
        var diverging: [Int] = []
        for (line, c) in cases.enumerated() {
            let kind = c["case"] as? String ?? "?"
            let problem = compare(tokenizer, c)
            perKind[kind, default: (0, 0)].all += 1
            guard let problem else { perKind[kind]!.ok += 1; continue }
            diverging.append(line)
            if failures.count < 12 { failures.append("[\(kind)] line \(line): \(problem)") }
        }
        let total = perKind.values.reduce(0) { $0 + $1.all }, ok = perKind.values.reduce(0) { $0 + $1.ok }
        let perKindText = perKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.ok)/\($0.value.all)" }.joined(separator: ", ")
        let summary = "\(golden): \(ok)/\(total) identical (\(perKindText)); differing lines \(diverging.prefix(20))"
        if let path = ProcessInfo.processInfo.environment["VERDICT_FAILURES"] { try? ([summary] + failures).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8) }
        print("tokenizer parity \(folder.lastPathComponent) vs \(summary)")
        XCTAssertEqual(diverging, [], "mismatches:\n" + failures.joined(separator: "\n"))
    }

    private func options(_ o: [String: Any]) -> TokenizationOptions {
        var opts = TokenizationOptions()
        if let p = o["padding"] as? String { opts.padding = p == "max_length" ? .maxLength : .longest }
        if let m = o["pad_to_multiple_of"] as? Int { opts.padToMultipleOf = m }
        switch o["truncation"] as? String {
        case "longest_first": opts.truncation = .longestFirst
        case "only_first": opts.truncation = .onlyFirst
        case "only_second": opts.truncation = .onlySecond
        default: break
        }
        if let m = o["max_length"] as? Int { opts.maxLength = m }
        if let s = o["stride"] as? Int { opts.stride = s }
        if let s = o["truncation_side"] as? String { opts.truncationSide = s == "left" ? .left : .right }
        if let s = o["padding_side"] as? String { opts.paddingSide = s == "left" ? .left : .right }
        opts.returnOverflowingTokens = o["return_overflowing_tokens"] as? Bool ?? false
        return opts
    }

    private func compare(_ tokenizer: Tokenizer, _ c: [String: Any]) -> String? {
        let opts = options(c["options"] as? [String: Any] ?? [:])
        let texts = (c["texts"] as? [String]) ?? [c["text"] as? String ?? ""]
        let pairs = (c["pair"] as? String).map { [$0] }
        let label = String(texts[0].prefix(60)).debugDescription
        let batch: BatchEncoding
        do {
            batch = try tokenizer(texts, pairs: pairs, options: opts)
        } catch {
            return c["error"] != nil ? nil : "\(label): unexpected error \(error)"
        }
        if let e = c["error"] { return "\(label): expected an error (\(e)) but got \(batch.count) rows" }
        let rows = c["rows"] as? [[String: Any]] ?? []
        if rows.count != batch.count { return "\(label): \(batch.count) rows, expected \(rows.count)" }
        for (i, r) in rows.enumerated() {
            let e = batch.encodings[i]
            func same(_ key: String, _ mine: [Int]) -> String? {
                guard let theirs = r[key] as? [Int] else { return nil }
                return theirs == mine ? nil : "\(key == "offsets" ? texts[0].debugDescription : label) row \(i) \(key):\n  mine   \(mine.prefix(40))\n  theirs \(theirs.prefix(40))"
            }
            if let m = same("input_ids", e.ids) { return m + "\n  tokens \(e.tokens.prefix(40))" }
            if let m = same("token_type_ids", e.typeIds) { return m }
            if let m = same("attention_mask", e.attentionMask) { return m }
            if let m = same("special_tokens_mask", e.specialTokensMask) { return m }
            if let m = same("offsets", e.offsets.flatMap { [$0.start, $0.end] }) { return m }
            if let tokens = r["tokens"] as? [String], tokens != e.tokens {
                return "\(label) tokens:\n  mine   \(e.tokens.prefix(40))\n  theirs \(tokens.prefix(40))"
            }
        }
        if let decoded = c["decoded"] as? String {
            let mine = tokenizer.decode(batch.encodings[0].ids)
            if mine != decoded { return "\(label) decode:\n  mine   \(mine.debugDescription)\n  theirs \(decoded.debugDescription)" }
        }
        return nil
    }
}
