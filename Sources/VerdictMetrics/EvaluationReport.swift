import Foundation
import VerdictTensor

/// A self-contained HTML evaluation report: metrics, the classification report, the confusion
/// matrix drawn as a heat map, and the examples the model got most confidently wrong.
public struct EvaluationReport: Sendable {
    public var title: String
    public var labelNames: [String]
    public var texts: [String]
    public var yTrue: [Int]
    public var yPred: [Int]
    /// Probability the model gave to its prediction, per example.
    public var confidence: [Double]

    public init(title: String, labelNames: [String], texts: [String], yTrue: [Int], yPred: [Int], confidence: [Double]) {
        self.title = title; self.labelNames = labelNames; self.texts = texts; self.yTrue = yTrue; self.yPred = yPred; self.confidence = confidence
    }

    /// A report from raw single-label logits (`[texts.count × labelNames.count]`, row-major): the
    /// prediction is the arg-max, its confidence the softmax probability of that class.
    public init(title: String, labelNames: [String], texts: [String], yTrue: [Int], logits: [Float]) {
        let (predicted, confidence) = Self.argmaxAndConfidence(logits, classes: labelNames.count)
        self.init(title: title, labelNames: labelNames, texts: texts, yTrue: yTrue, yPred: predicted, confidence: confidence)
    }

    /// Arg-max class and its softmax probability for each row of `logits`.
    public static func argmaxAndConfidence(_ logits: [Float], classes: Int) -> (predicted: [Int], confidence: [Double]) {
        guard classes > 0 else { return ([], []) }
        var predicted: [Int] = [], confidence: [Double] = []
        for start in stride(from: 0, to: logits.count - classes + 1, by: classes) {
            let row = logits[start..<(start + classes)]
            // NaN logits (a diverged run) never win and never trap.
            let best = Logits.argmax(row) - start
            predicted.append(best)
            confidence.append(Logits.softmax(row)[best])
        }
        return (predicted, confidence)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The confusion matrix as an SVG heat map.
    public func heatMapSVG() -> String {
        let labels = Array(0..<labelNames.count)
        let m = ClassificationMetrics.confusionMatrix(yTrue, yPred, labels: labels)
        let cell = 70, margin = 130, size = margin + cell * labels.count + 20
        let peak = max(1, m.flatMap { $0 }.max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(size)\" height=\"\(size)\" font-family=\"sans-serif\" font-size=\"12\">"
        svg += "<text x=\"\(margin)\" y=\"14\">predicted →</text><text x=\"4\" y=\"\(margin - 8)\">true ↓</text>"
        for (j, name) in labelNames.enumerated() {
            svg += "<text x=\"\(margin + j * cell + 4)\" y=\"\(margin - 8)\">\(Self.escape(String(name.prefix(10))))</text>"
            svg += "<text x=\"4\" y=\"\(margin + j * cell + cell / 2)\">\(Self.escape(String(name.prefix(16))))</text>"
        }
        for i in labels {
            for j in labels {
                let v = m[i][j], t = Double(v) / Double(peak)
                let shade = Int(255 - 200 * t)
                svg += "<rect x=\"\(margin + j * cell)\" y=\"\(margin + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#fff\"/>"
                svg += "<text x=\"\(margin + j * cell + cell / 2)\" y=\"\(margin + i * cell + cell / 2 + 4)\" text-anchor=\"middle\" fill=\"\(t > 0.6 ? "#fff" : "#000")\">\(v)</text>"
            }
        }
        return svg + "</svg>"
    }

    /// Indices of the wrongly predicted examples, the most confident prediction first (ties in
    /// input order, NaN confidences last), at most `limit` of them: the examples worth reading first.
    public func mostConfidentlyWrong(limit: Int = 25) -> [Int] {
        let wrong = yTrue.indices.filter { $0 < yPred.count && $0 < confidence.count && yTrue[$0] != yPred[$0] }
        func key(_ i: Int) -> Double { confidence[i].isNaN ? -.infinity : confidence[i] }
        return Array(wrong.sorted { key($0) > key($1) || (key($0) == key($1) && $0 < $1) }.prefix(max(0, limit)))
    }

    /// The whole page.
    public func html(worstExamples: Int = 25) -> String {
        let labels = Array(0..<labelNames.count)
        let report = ClassificationMetrics.classificationReport(yTrue, yPred, labels: labels, targetNames: labelNames, digits: 4)
        let wrong = mostConfidentlyWrong(limit: worstExamples)
        var rows = ""
        for i in wrong {
            rows += "<tr><td>\(Self.escape(labelNames[yTrue[i]]))</td><td>\(Self.escape(labelNames[yPred[i]]))</td><td>\(String(format: "%.4f", confidence[i]))</td><td>\(Self.escape(i < texts.count ? texts[i] : ""))</td></tr>\n"
        }
        return """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
        <style>body{font-family:sans-serif;margin:2em;max-width:70em}pre{background:#f6f6f6;padding:1em}td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}</style></head>
        <body><h1>\(Self.escape(title))</h1>
        <p>accuracy \(String(format: "%.4f", ClassificationMetrics.accuracy(yTrue, yPred))) on \(yTrue.count) examples</p>
        <h2>Classification report</h2><pre>\(Self.escape(report))</pre>
        <h2>Confusion matrix</h2>\(heatMapSVG())
        <h2>Most confidently wrong</h2>
        <table><tr><th>true</th><th>predicted</th><th>confidence</th><th>text</th></tr>
        \(rows)</table></body></html>
        """
    }
}
