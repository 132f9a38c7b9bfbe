import Foundation
import XCTest

/// `verdict classify --jsonl`: the batch mode the scale-out recipes (Examples/ScaleOut) pipe
/// records through. Lines come back in order with every input byte kept, shards partition the
/// input, and the scores are those of ordinary `classify`.
final class JSONLinesClassifyTests: XCTestCase {
    static let tiny = ClassifyAndTrainCommandTests.tiny

    /// 600 records (more than one 256-line chunk), with fields a pass-through must not touch:
    /// integers beyond a double's precision, escapes, nested values, non-ASCII text.
    func records() -> [String] {
        let words = ["a gripping film", "dull", "naïve but “charming”", "I hated \\\"every\\\" minute", "🙂 fine", "slow, then great"]
        return (0..<600).map { k in
            "{\"id\": \(k), \"big\": 1234567890123456789\(k % 10), \"text\": \"\(words[k % words.count]) \(k)\", \"meta\": {\"tags\": [1, 2.50, null]}}"
        }
    }

    func testLinesComeBackInOrderWithTheirBytesAndTheScoresOfClassify() throws {
        let input = records()
        let r = try CLI.run(["classify", "--model", Self.tiny, "--jsonl"], stdin: input.joined(separator: "\n") + "\n\n")
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, input.count)
        let texts = try input.map { try XCTUnwrap((JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["text"] as? String) }
        let plain = try CLI.run(["classify", "--model", Self.tiny, "--json"], stdin: texts.joined(separator: "\n") + "\n")
        XCTAssertEqual(plain.status, 0, plain.err)
        let expected = plain.out.split(separator: "\n")
        for (k, line) in lines.enumerated() {
            let prefix = String(input[k].dropLast())
            XCTAssertTrue(line.hasPrefix(prefix + ",\"prediction\":{"), "line \(k): \(line)")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let prediction = try XCTUnwrap(object["prediction"] as? [String: Any])
            let reference = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(expected[k].utf8)) as? [String: Any])?["labels"] as? [[String: Any]])
            XCTAssertEqual(prediction["label"] as? String, reference[0]["label"] as? String, "line \(k)")
            let (got, want) = ((prediction["score"] as? NSNumber)?.doubleValue ?? -1, (reference[0]["score"] as? NSNumber)?.doubleValue ?? -2)
            XCTAssertEqual(got, want, accuracy: 1e-6, "line \(k)")
        }
    }

    func testShardsPartitionTheInputExactlyOnce() throws {
        let input = records().prefix(50).joined(separator: "\n") + "\n"
        let whole = try CLI.run(["classify", "--model", Self.tiny, "--jsonl"], stdin: input)
        XCTAssertEqual(whole.status, 0, whole.err)
        var union: [String] = []
        for i in 0..<3 {
            let shard = try CLI.run(["classify", "--model", Self.tiny, "--jsonl", "--shard", "\(i)/3"], stdin: input)
            XCTAssertEqual(shard.status, 0, shard.err)
            let lines = shard.out.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, (50 - i + 2) / 3)
            union += lines
        }
        XCTAssertEqual(union.sorted(), whole.out.split(separator: "\n").map(String.init).sorted())
        for bad in ["3/3", "-1/2", "1", "a/b", "0/0"] {
            let r = try CLI.run(["classify", "--model", Self.tiny, "--jsonl", "--shard", bad], stdin: input)
            XCTAssertNotEqual(r.status, 0, bad)
        }
    }

    func testInvalidLinesAreNamedOrSkipped() throws {
        let input = "{\"text\": \"fine\"}\n{\"txt\": \"no text\"}\nnot json\n[1]\n{\"text\": \"ok\", \"prediction\": 1}\n{\"text\": \"last\"}"
        let strict = try CLI.run(["classify", "--model", Self.tiny, "--jsonl"], stdin: input)
        XCTAssertEqual(strict.status, 1)
        XCTAssertTrue(strict.err.contains("standard input line 2: no string field \"text\""), strict.err)
        let lenient = try CLI.run(["classify", "--model", Self.tiny, "--jsonl", "--skip-invalid"], stdin: input)
        XCTAssertEqual(lenient.status, 0, lenient.err)
        let kept = lenient.out.split(separator: "\n")
        XCTAssertEqual(kept.count, 2, lenient.out)
        XCTAssertTrue(kept.first?.hasPrefix("{\"text\": \"fine\",\"prediction\":{") == true, lenient.out)
        XCTAssertTrue(kept.last?.hasPrefix("{\"text\": \"last\",\"prediction\":{") == true, lenient.out)
        for needle in ["line 2:", "line 3: not valid JSON", "line 4: expected a JSON object", "line 5: the object already has a field \"prediction\""] {
            XCTAssertTrue(lenient.err.contains(needle), "\(needle) in \(lenient.err)")
        }
        let field = try CLI.run(["classify", "--model", Self.tiny, "--jsonl", "--text-field", "txt", "--output-field", "verdict"], stdin: "{\"txt\": \"good\"}")
        XCTAssertEqual(field.status, 0, field.err)
        XCTAssertTrue(field.out.hasPrefix("{\"txt\": \"good\",\"verdict\":{\"label\""), field.out)
        XCTAssertNotEqual(try CLI.run(["classify", "--model", Self.tiny, "--shard", "0/2", "text"]).status, 0)
    }
}
