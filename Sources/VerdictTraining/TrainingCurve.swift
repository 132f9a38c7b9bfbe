import Foundation

/// Draws the training loss and an evaluation metric per step as an SVG line chart.
public enum TrainingCurve {
    /// `history` is `TrainerState.logHistory`; `metric` is an `eval_` key such as `eval_accuracy`.
    public static func svg(_ history: [[String: Double]], metric: String = "eval_accuracy") -> String {
        let width = 720.0, height = 360.0, pad = 50.0
        let loss = history.compactMap { e in e["loss"].flatMap { l in e["step"].map { ($0, l) } } }
        let evals = history.compactMap { e in e[metric].flatMap { v in e["step"].map { ($0, v) } } }
        let maxStep = max(1, (loss + evals).map(\.0).max() ?? 1)
        let maxLoss = max(1e-9, loss.map(\.1).max() ?? 1)
        func x(_ s: Double) -> Double { pad + s / maxStep * (width - 2 * pad) }
        func y(_ v: Double, _ top: Double) -> Double { height - pad - v / top * (height - 2 * pad) }
        func path(_ points: [(Double, Double)], top: Double) -> String {
            points.enumerated().map { i, p in String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(p.0), y(p.1, top)) }.joined(separator: " ")
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
        svg += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>", pad, height - pad, width - pad, height - pad)
        svg += String(format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#888\"/>", pad, pad, pad, height - pad)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">step (max %.0f)</text>", width / 2, height - 15, maxStep)
        svg += "<path d=\"\(path(loss, top: maxLoss))\" fill=\"none\" stroke=\"#c33\" stroke-width=\"1.5\"/>"
        svg += String(format: "<text x=\"%.0f\" y=\"20\" fill=\"#c33\">training loss (max %.3f)</text>", pad, maxLoss)
        if !evals.isEmpty {
            svg += "<path d=\"\(path(evals, top: 1))\" fill=\"none\" stroke=\"#33c\" stroke-width=\"2\"/>"
            for p in evals { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#33c\"/>", x(p.0), y(p.1, 1)) }
            svg += String(format: "<text x=\"%.0f\" y=\"20\" fill=\"#33c\">%@ (0–1; last %.4f)</text>", width / 2, metric, evals.last!.1)
        }
        return svg + "</svg>"
    }
}
