import Foundation
import VerdictTestSupport
import XCTest
import VerdictMetrics

/// Every metric and the classification report text against scikit-learn
/// (goldens from tools/make_metric_fixtures.py: 1,000 random cases).
final class MetricParityTests: XCTestCase {
    static let fixtures = Repository.fixture("metrics")

    func cases(_ file: String = "sklearn.golden.jsonl.gz") throws -> [[String: Any]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gzip", "-dc", Self.fixtures.appendingPathComponent(file).path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONSerialization.jsonObject(with: Data($0)) as! [String: Any] }
    }

    func num(_ a: Any?) -> Double { (a as? NSNumber)?.doubleValue ?? .nan }

    func assertClose(_ a: Double, _ b: Double, _ message: String) {
        if a.isNaN && b.isNaN { return }
        XCTAssertEqual(a, b, accuracy: 1e-12, message)
    }

    func testAgainstScikitLearn() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 1000)
        var reports = 0
        for (i, c) in all.enumerated() {
            let y = c["y_true"] as! [Int], p = c["y_pred"] as! [Int]
            let labels = c["labels"] as? [Int]
            let zd: ZeroDivision = num(c["zero_division"]) == 1 ? .one : .zero
            assertClose(ClassificationMetrics.accuracy(y, p), num(c["accuracy"]), "case \(i) accuracy")
            if let b = c["balanced_accuracy"] { assertClose(ClassificationMetrics.balancedAccuracy(y, p), num(b), "case \(i) balanced") }
            XCTAssertEqual(ClassificationMetrics.confusionMatrix(y, p, labels: labels), c["confusion_matrix"] as! [[Int]], "case \(i)")
            let none = c["none"] as! [[Any]]
            for (j, r) in ClassificationMetrics.perClass(y, p, labels: labels, zeroDivision: zd).enumerated() {
                assertClose(r.precision, num(none[0][j]), "case \(i) precision[\(j)]")
                assertClose(r.recall, num(none[1][j]), "case \(i) recall[\(j)]")
                assertClose(r.f1, num(none[2][j]), "case \(i) f1[\(j)]")
                XCTAssertEqual(r.support, (none[3][j] as! NSNumber).intValue, "case \(i) support[\(j)]")
            }
            var averages: [(String, Average)] = [("macro", .macro), ("micro", .micro), ("weighted", .weighted)]
            if c["binary"] != nil { averages.append(("binary", .binary(positiveLabel: 1))) }
            for (key, average) in averages {
                let want = c[key] as! [Any]
                let got = ClassificationMetrics.score(y, p, average: average, labels: labels, zeroDivision: zd)
                assertClose(got.precision, num(want[0]), "case \(i) \(key) precision")
                assertClose(got.recall, num(want[1]), "case \(i) \(key) recall")
                assertClose(got.f1, num(want[2]), "case \(i) \(key) f1")
            }
            let report = ClassificationMetrics.classificationReport(y, p, labels: labels, targetNames: c["target_names"] as? [String],
                                                                    digits: c["digits"] as! Int, zeroDivision: zd)
            XCTAssertEqual(report, c["report"] as! String, "case \(i) report")
            if report == c["report"] as! String { reports += 1 }
            // The same report as values: scikit-learn's output_dict.
            let values = ClassificationMetrics.report(y, p, labels: labels, targetNames: c["target_names"] as? [String], zeroDivision: zd)
            XCTAssertEqual(values.text, ClassificationMetrics.classificationReport(y, p, labels: labels, targetNames: c["target_names"] as? [String], zeroDivision: zd))
            let dict = c["report_dict"] as! [String: Any]
            func check(_ score: PRFScore, _ key: String) {
                guard let want = dict[key] as? [String: Any] else { return XCTFail("case \(i): no \(key) in output_dict") }
                assertClose(score.precision, num(want["precision"]), "case \(i) \(key) precision")
                assertClose(score.recall, num(want["recall"]), "case \(i) \(key) recall")
                assertClose(score.f1, num(want["f1-score"]), "case \(i) \(key) f1")
                XCTAssertEqual(Double(score.support), num(want["support"]), "case \(i) \(key) support")
            }
            for row in values.classes { check(row.score, row.name) }
            check(values.macroAverage, "macro avg")
            check(values.weightedAverage, "weighted avg")
            if let accuracy = values.accuracy { assertClose(accuracy, num(dict["accuracy"]), "case \(i) accuracy") } else { XCTAssertNil(dict["accuracy"], "case \(i)") }
            if let micro = values.microAverage { check(micro, "micro avg") } else { XCTAssertNil(dict["micro avg"], "case \(i)") }
            XCTAssertEqual(dict.count, values.classes.count + 2 + 1, "case \(i): output_dict keys")
            if let auc = c["auc"] as? [String: Any] {
                assertClose(ClassificationMetrics.rocAUC(auc["y"] as! [Int], scores: (auc["scores"] as! [NSNumber]).map(\.doubleValue)), num(auc["value"]), "case \(i) auc")
            }
        }
        print("metric parity: \(all.count) cases, \(reports) identical classification reports")
    }

    func testMultiLabelAgainstScikitLearn() throws {
        let all = try cases("sklearn.multilabel.golden.jsonl.gz")
        XCTAssertEqual(all.count, 500)
        for (i, c) in all.enumerated() {
            let y = (c["y_true"] as! [[Int]]).map { $0.map { $0 == 1 } }, p = (c["y_pred"] as! [[Int]]).map { $0.map { $0 == 1 } }
            let zd: ZeroDivision = num(c["zero_division"]) == 1 ? .one : .zero
            assertClose(MultiLabelMetrics.subsetAccuracy(y, p), num(c["subset_accuracy"]), "case \(i) subset accuracy")
            assertClose(MultiLabelMetrics.hammingLoss(y, p), num(c["hamming_loss"]), "case \(i) hamming loss")
            let none = c["none"] as! [[Any]]
            for (j, r) in MultiLabelMetrics.perLabel(y, p, zeroDivision: zd).enumerated() {
                assertClose(r.precision, num(none[0][j]), "case \(i) precision[\(j)]")
                assertClose(r.recall, num(none[1][j]), "case \(i) recall[\(j)]")
                assertClose(r.f1, num(none[2][j]), "case \(i) f1[\(j)]")
                XCTAssertEqual(r.support, (none[3][j] as! NSNumber).intValue, "case \(i) support[\(j)]")
            }
            for (key, average) in [("macro", MultiLabelMetrics.Average.macro), ("micro", .micro), ("weighted", .weighted), ("samples", .samples)] {
                let want = c[key] as! [Any], got = MultiLabelMetrics.score(y, p, average: average, zeroDivision: zd)
                assertClose(got.precision, num(want[0]), "case \(i) \(key) precision")
                assertClose(got.recall, num(want[1]), "case \(i) \(key) recall")
                assertClose(got.f1, num(want[2]), "case \(i) \(key) f1")
            }
            XCTAssertEqual(MultiLabelMetrics.classificationReport(y, p, targetNames: c["target_names"] as? [String], digits: c["digits"] as! Int, zeroDivision: zd),
                           c["report"] as! String, "case \(i) report")
        }
    }
}
