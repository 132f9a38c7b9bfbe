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
}
