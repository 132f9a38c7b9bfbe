/// Metrics for multi-label classification (each example has any number of labels), computed as
/// scikit-learn computes them on label-indicator matrices: `yTrue[i][j]` is `true` when example
/// `i` has label `j`. Rows of `yTrue` and `yPred` must have the same length.
public enum MultiLabelMetrics {
    /// How per-label scores are combined (`average=` in scikit-learn, for multi-label input).
    public enum Average: Equatable, Sendable {
        /// Global counts of true/false positives and negatives over all labels.
        case micro
        /// Unweighted mean over labels.
        case macro
        /// Mean over labels weighted by each label's support.
        case weighted
        /// Scores computed per example, then averaged over examples.
        case samples
    }

    /// Fraction of examples whose predicted label set equals the true one (`accuracy_score`).
    public static func subsetAccuracy(_ yTrue: [[Bool]], _ yPred: [[Bool]]) -> Double {
        precondition(yTrue.count == yPred.count, "yTrue and yPred differ in length")
        guard !yTrue.isEmpty else { return 0 }
        return Double(zip(yTrue, yPred).filter { $0 == $1 }.count) / Double(yTrue.count)
    }

    /// Fraction of wrong (example, label) entries (`hamming_loss`).
    public static func hammingLoss(_ yTrue: [[Bool]], _ yPred: [[Bool]]) -> Double {
        let entries = yTrue.reduce(0) { $0 + $1.count }
        guard entries > 0 else { return 0 }
        let wrong = zip(yTrue, yPred).reduce(0) { sum, pair in sum + zip(pair.0, pair.1).filter { $0 != $1 }.count }
        return Double(wrong) / Double(entries)
    }

    /// Scores of each label (`average=None`), in column order.
    public static func perLabel(_ yTrue: [[Bool]], _ yPred: [[Bool]], zeroDivision: ZeroDivision = .zero) -> [PRFScore] {
        (0..<labelCount(yTrue, yPred)).map { j in
            let c = counts(zip(yTrue, yPred).map { ($0[j], $1[j]) })
            return ClassificationMetrics.score(tp: c.tp, fp: c.fp, fn: c.fn, support: c.tp + c.fn, zeroDivision: zeroDivision)
        }
    }

    /// `precision_recall_fscore_support` with an average. The support of an average is the
    /// total number of true labels.
    public static func score(_ yTrue: [[Bool]], _ yPred: [[Bool]], average: Average, zeroDivision: ZeroDivision = .zero) -> PRFScore {
        let rows = perLabel(yTrue, yPred, zeroDivision: zeroDivision)
        let support = rows.reduce(0) { $0 + $1.support }
        switch average {
        case .macro: return ClassificationMetrics.macroAverage(rows, zeroDivision: zeroDivision)
        case .weighted: return ClassificationMetrics.weightedAverage(rows, zeroDivision: zeroDivision)
        case .micro:
            let c = counts(zip(yTrue, yPred).flatMap { zip($0, $1) })
            return ClassificationMetrics.score(tp: c.tp, fp: c.fp, fn: c.fn, support: support, zeroDivision: zeroDivision)
        case .samples:
            let perExample = zip(yTrue, yPred).map { t, p in
                let c = counts(Array(zip(t, p)))
                return ClassificationMetrics.score(tp: c.tp, fp: c.fp, fn: c.fn, support: c.tp + c.fn, zeroDivision: zeroDivision)
            }
            var average = ClassificationMetrics.macroAverage(perExample, zeroDivision: zeroDivision)
            average.support = support
            return average
        }
    }

    /// `classification_report` for multi-label input: one row per label, then micro, macro,
    /// weighted and samples averages, character for character as scikit-learn prints it.
    public static func classificationReport(_ yTrue: [[Bool]], _ yPred: [[Bool]], targetNames: [String]? = nil,
                                            digits: Int = 2, zeroDivision: ZeroDivision = .zero) -> String {
        let names = targetNames ?? (0..<labelCount(yTrue, yPred)).map(String.init)
        let averages = [(Average.micro, "micro avg"), (.macro, "macro avg"), (.weighted, "weighted avg"), (.samples, "samples avg")].map {
            ClassificationMetrics.ReportRow(title: $0.1, score: score(yTrue, yPred, average: $0.0, zeroDivision: zeroDivision))
        }
        return ClassificationMetrics.formatReport(names: names, rows: perLabel(yTrue, yPred, zeroDivision: zeroDivision),
                                                  averages: averages, digits: digits)
    }

    private static func labelCount(_ yTrue: [[Bool]], _ yPred: [[Bool]]) -> Int {
        precondition(yTrue.count == yPred.count, "yTrue and yPred differ in length")
        let width = yTrue.first?.count ?? 0
        precondition(yTrue.allSatisfy { $0.count == width } && yPred.allSatisfy { $0.count == width }, "rows differ in label count")
        return width
    }

    private static func counts<S: Sequence>(_ pairs: S) -> (tp: Int, fp: Int, fn: Int) where S.Element == (Bool, Bool) {
        var tp = 0, fp = 0, fn = 0
        for (t, p) in pairs {
            if t && p { tp += 1 } else if p { fp += 1 } else if t { fn += 1 }
        }
        return (tp, fp, fn)
    }
}
