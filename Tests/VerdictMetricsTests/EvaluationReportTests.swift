import XCTest
import VerdictMetrics

final class EvaluationReportTests: XCTestCase {
    func testHTMLHasReportHeatMapAndWorstExamplesEscaped() {
        let r = EvaluationReport(title: "t", labelNames: ["NEG", "POS"], texts: ["<b>bad</b>", "good", "meh"],
                                 yTrue: [0, 1, 1], yPred: [1, 1, 0], confidence: [0.9, 0.8, 0.6])
        let html = r.html()
        XCTAssertTrue(html.contains(ClassificationMetrics.classificationReport([0, 1, 1], [1, 1, 0], labels: [0, 1], targetNames: ["NEG", "POS"], digits: 4)))
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(html.contains("&lt;b&gt;bad&lt;/b&gt;"))
        XCTAssertFalse(html.contains("<b>bad</b>"))
        let worst = html.range(of: "&lt;b&gt;bad")!.lowerBound, next = html.range(of: "<td>meh</td>")!.lowerBound
        XCTAssertLessThan(worst, next, "most confident mistake first")
    }

    func testMostConfidentlyWrongRanksMistakesByConfidenceThenOrder() {
        let r = EvaluationReport(title: "t", labelNames: ["a", "b", "c"], texts: ["0", "1", "2", "3", "4", "5"],
                                 yTrue: [0, 1, 2, 0, 1, 2], yPred: [1, 1, 0, 2, 0, 2], confidence: [0.5, 0.99, 0.7, 0.7, 0.9, 0.95])
        XCTAssertEqual(r.mostConfidentlyWrong(), [4, 2, 3, 0])
        XCTAssertEqual(r.mostConfidentlyWrong(limit: 2), [4, 2])
        XCTAssertEqual(r.mostConfidentlyWrong(limit: 0), [])
        XCTAssertEqual(EvaluationReport(title: "t", labelNames: ["a", "b"], texts: ["x", "y"], yTrue: [0, 1], logits: [2, 1, 3, 0]).mostConfidentlyWrong(), [1])
    }
}
