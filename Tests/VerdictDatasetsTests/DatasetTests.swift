import Foundation
import VerdictTestSupport
import XCTest
@testable import VerdictDatasets

final class DatasetTests: XCTestCase {
    static let shared = Repository.shared

    func write(_ text: String, _ ext: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-data-\(UUID().uuidString).\(ext)")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testCSVQuotingNewlinesAndErrors() throws {
        let csv = try write("text,label\n\"a, \"\"quoted\"\"\nline\",pos\nplain,neg\n", "csv")
        let d = try Dataset.load(csv)
        XCTAssertEqual(try d.column("text"), ["a, \"quoted\"\nline", "plain"])
        XCTAssertThrowsError(try Dataset.load(try write("a,b\n1,2,3\n", "csv"))) { XCTAssertTrue("\($0)".contains(":2: expected 2 fields, found 3"), "\($0)") }
        XCTAssertThrowsError(try Dataset.load(try write("", "csv"))) { XCTAssertTrue("\($0)".contains("no data rows")) }
        XCTAssertThrowsError(try DelimitedTable(data: Data([0x61, 0x0A, 0xFF, 0xFE]), path: "bad.csv", delimiter: 44)) { XCTAssertTrue("\($0)".contains("invalid UTF-8")) }
        XCTAssertThrowsError(try DelimitedTable(data: Data("a\n\"open\n".utf8), path: "q.csv", delimiter: 44)) { XCTAssertTrue("\($0)".contains("never closed")) }
        XCTAssertThrowsError(try d.column("missing")) { XCTAssertTrue("\($0)".contains("missing")) }
        let jsonl = try Dataset.load(try write("{\"text\": \"x\", \"label\": 1}\n\n{\"text\": \"y\", \"label\": 0}\n", "jsonl"))
        XCTAssertEqual(try jsonl.column("label"), ["1", "0"])
        XCTAssertThrowsError(try Dataset.load(try write("{\"text\": [1]}\n", "jsonl"))) { XCTAssertTrue("\($0)".contains(":1:")) }
        XCTAssertEqual(try Dataset.load(try write("[{\"a\": \"1\"}, {\"a\": true}]", "json")).column("a"), ["1", "true"])
        // A header naming a column twice is an error naming it (it was a trap building the columns).
        XCTAssertThrowsError(try Dataset.load(try write("text,label,text\na,1,b\n", "csv"))) {
            XCTAssertTrue("\($0)".contains("names column \"text\" more than once"), "\($0)")
        }
        // Split arguments that cannot split are errors, not traps.
        XCTAssertThrowsError(try labelled(20).groupedSplit(groupBy: "doc", fractions: [], names: [], seed: 1))
        XCTAssertThrowsError(try labelled(20).groupedSplit(groupBy: "doc", fractions: [0.9, 0.9], names: ["a", "b"], seed: 1))
    }

    func labelled(_ n: Int) -> Dataset {
        Dataset(columns: [("text", (0..<n).map { "t\($0)" }), ("label", (0..<n).map { $0 % 10 < 7 ? "pos" : ($0 % 10 < 9 ? "neg" : "neutral") }),
                          ("doc", (0..<n).map { "d\($0 / 7)" })])
    }

    func testStratifiedSplitKeepsProportionsAndIsReproducible() throws {
        let d = labelled(1003)
        let split = try d.trainTestSplit(testSize: 0.2, seed: 7, stratifyBy: "label")
        let all = try d.column("label").reduce(into: [:]) { $0[$1, default: 0] += 1 }
        let test = try split["test"]!.column("label").reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        for (label, n) in all { XCTAssertLessThanOrEqual(abs(Double(test[label] ?? 0) - Double(n) * 0.2), 1, label) }
        XCTAssertEqual(split["train"]!.count + split["test"]!.count, d.count)
        XCTAssertEqual(Set(try split["train"]!.column("text")).intersection(try split["test"]!.column("text")), [])
        XCTAssertEqual(try d.trainTestSplit(testSize: 0.2, seed: 7, stratifyBy: "label")["test"], split["test"])
        XCTAssertNotEqual(try d.trainTestSplit(testSize: 0.2, seed: 8, stratifyBy: "label")["test"], split["test"])
        let three = try d.trainValidationTestSplit(validation: 0.1, test: 0.1, seed: 1, stratifyBy: "label")
        XCTAssertEqual(three.splits.map { $0.dataset.count }.reduce(0, +), d.count)
        XCTAssertEqual(try three.distribution(of: "label")["validation"]!.values.reduce(0, +), three["validation"]!.count)
    }

    func testGroupedSplitNeverStraddles() throws {
        let d = labelled(700)
        let split = try d.groupedSplit(groupBy: "doc", fractions: [0.8, 0.1, 0.1], names: ["train", "dev", "test"], seed: 3)
        var owner: [String: String] = [:]
        for (name, part) in split.splits { for g in try part.column("doc") { XCTAssertEqual(owner.updateValue(name, forKey: g) ?? name, name, g) } }
        XCTAssertEqual(split.splits.map { $0.dataset.count }.reduce(0, +), 700)
        XCTAssertEqual(try d.groupedSplit(groupBy: "doc", fractions: [0.8, 0.1, 0.1], names: ["train", "dev", "test"], seed: 3)["test"], split["test"])
    }

    func testLabelEncodingAndMap() throws {
        let enc = LabelEncoding(values: ["pos", "neg", "pos", "neutral"])
        XCTAssertEqual(enc.classNames, ["neg", "neutral", "pos"])
        XCTAssertEqual(try enc.encode(["pos", "neg"]), [2, 0])
        XCTAssertThrowsError(try enc.encode(["pos", "meh"])) { XCTAssertTrue("\($0)".contains("meh")) }
        XCTAssertEqual(LabelEncoding(values: ["10", "2", "1"]).classNames, ["1", "2", "10"])
        let d = labelled(2000).map(column: "upper") { $0["text"]!.uppercased() }
        XCTAssertEqual(try d.column("upper")[1999], "T1999")
    }

    struct Refused: Error, Equatable { let row: String }

    func testBatchedMapKeepsOrderAndPassesErrorsOn() throws {
        let d = labelled(25_013)
        let lengths = d.map(batchSize: 1000, progress: nil) { batch in try! batch.column("text").map(\.count) }
        XCTAssertEqual(lengths, try d.column("text").map(\.count))
        XCTAssertEqual(d.select([]).map { _ in [Int]() }, [])
        XCTAssertThrowsError(try d.map(batchSize: 500) { (batch: Dataset) throws(Refused) -> [Int] in
            if let bad = batch.columns["text"]!.first(where: { $0 == "t12345" }) { throw Refused(row: bad) }
            return Array(repeating: 0, count: batch.count)
        }) { XCTAssertEqual($0 as? Refused, Refused(row: "t12345")) }
    }

    func testLabelledTextsFromJSONLinesAndMixedLabelTypes() throws {
        let jsonl = try write("{\"sentence\": \"good\", \"label\": 1}\n\n{\"sentence\": \"bad\", \"label\": 0}\n", "jsonl")
        let data = try LabelledTexts.load(jsonl)
        XCTAssertEqual(data.texts, ["good", "bad"])
        XCTAssertEqual(data.labels, [1, 0])
        let mixed = try write("sentence\tlabel\na\t0\nb\t1\nc\tpositive\n", "tsv")
        XCTAssertThrowsError(try LabelledTexts.load(mixed)) {
            XCTAssertTrue("\($0)".contains(mixed.path + ":4: column \"label\" mixes label types: \"positive\""), "\($0)")
        }
        XCTAssertEqual(try LabelledTexts.load(mixed, labelNames: ["negative", "positive"]).labels, [0, 1, 1])
        let unknown = try write("{\"sentence\": \"a\", \"label\": \"pos\"}\n\n{\"sentence\": \"b\", \"label\": \"meh\"}\n", "jsonl")
        XCTAssertThrowsError(try LabelledTexts.load(unknown, labelNames: ["neg", "pos"])) { XCTAssertTrue("\($0)".contains(":3: unknown label \"meh\""), "\($0)") }
        XCTAssertThrowsError(try LabelledTexts.load(jsonl, textColumn: "text")) { XCTAssertTrue("\($0)".contains("no column \"text\""), "\($0)") }
        // A row without a label is an error, not a class called "".
        let empty = try write("sentence\tlabel\na\tpositive\nb\t\nc\tnegative\n", "tsv")
        XCTAssertThrowsError(try LabelledTexts.load(empty)) { XCTAssertTrue("\($0)".contains(empty.path + ":3: column \"label\" is empty"), "\($0)") }
    }

    func testLabelledTextsFindTheirColumnsOrListTheFilesColumns() throws {
        let reviews = try write("review,labels\n\"great, really\",positive\nawful,negative\n", "csv")
        let data = try LabelledTexts.load(reviews)
        XCTAssertEqual(data.texts, ["great, really", "awful"])
        XCTAssertEqual(data.labelNames, ["negative", "positive"])
        XCTAssertEqual(data.labels, [1, 0])
        let neither = try write("body,stars\nok,3\n", "csv")
        XCTAssertThrowsError(try LabelledTexts.load(neither)) {
            XCTAssertTrue("\($0)".contains("no column \"text or sentence or review or content\""), "\($0)")
            XCTAssertTrue("\($0)".contains("body") && "\($0)".contains("stars"), "\($0)")
        }
        XCTAssertThrowsError(try LabelledTexts.load(neither, textColumn: "body")) {
            XCTAssertTrue("\($0)".contains("no column \"label or labels\""), "\($0)")
        }
        XCTAssertEqual(try LabelledTexts.load(neither, textColumn: "body", labelColumn: "stars").labelNames, ["0", "1", "2", "3"])
        let huge = try write("text,label\na,0\nb,999999999999\n", "csv")
        XCTAssertThrowsError(try LabelledTexts.load(huge)) { XCTAssertTrue("\($0)".contains(":3: column \"label\" has class id 999999999999"), "\($0)") }
    }

    /// SST-2 train (67k rows): load + stratified split timing (printed; the bound lives in the issue, not here).
    func testLoadAndSplitSST2() throws {
        let url = Self.shared.appendingPathComponent("data/sst2/train.tsv")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("../shared/data not present (set VERDICT_SHARED_DIR)") }
        let start = Date()
        let d = try Dataset.load(url)
        let split = try d.trainTestSplit(testSize: 0.1, seed: 42, stratifyBy: "label")
        print(String(format: "SST-2 train: %d rows loaded and split in %.3f s (debug build)", d.count, Date().timeIntervalSince(start)))
        XCTAssertEqual(d.count, 67349)
        XCTAssertEqual(split["test"]!.count + split["train"]!.count, 67349)
    }
}
