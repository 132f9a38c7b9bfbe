import Foundation

/// How per-class scores are combined (`average=` in scikit-learn).
public enum Average: Equatable, Sendable {
    /// Only the positive class (binary problems).
    case binary(positiveLabel: Int)
    /// Unweighted mean over classes.
    case macro
    /// Global counts of true/false positives and negatives.
    case micro
    /// Mean weighted by each class's support.
    case weighted
}

/// The value used when a ratio has a zero denominator (`zero_division=`); scikit-learn's "warn" behaves as 0.
public enum ZeroDivision: Equatable, Sendable {
    case zero, one, nan
    var value: Double { switch self { case .zero: return 0; case .one: return 1; case .nan: return .nan } }
}

/// Precision, recall, F1 and support for one class or one average.
public struct PRFScore: Equatable, Sendable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Number of true examples (nil for averages scikit-learn reports without support).
    public var support: Int
}

/// scikit-learn's `classification_report`: its values (what `output_dict=True` returns) and its text.
public struct ClassificationReport: Sendable, Equatable, CustomStringConvertible {
    /// One class's row: its name (a target name, or the label id) and scores.
    public struct ClassRow: Sendable, Equatable {
        public var name: String
        public var score: PRFScore
    }

    /// One row per class, in the order of the labels.
    public var classes: [ClassRow]
    /// The accuracy, when the rows cover every label that occurs (scikit-learn then reports
    /// "accuracy" in place of the micro average); `nil` otherwise.
    public var accuracy: Double?
    /// The micro average, reported when `accuracy` is `nil`.
    public var microAverage: PRFScore?
    public var macroAverage: PRFScore
    public var weightedAverage: PRFScore
    /// The report as scikit-learn prints it.
    public var text: String

    public var description: String { text }
}

/// Classification metrics computed exactly as scikit-learn computes them, for integer labels.
public enum ClassificationMetrics {
    /// The sorted union of labels in `yTrue` and `yPred` (`unique_labels`).
    public static func uniqueLabels(_ yTrue: [Int], _ yPred: [Int]) -> [Int] { Array(Set(yTrue).union(yPred)).sorted() }

    public static func accuracy(_ yTrue: [Int], _ yPred: [Int]) -> Double {
        precondition(yTrue.count == yPred.count, "yTrue and yPred differ in length")
        guard !yTrue.isEmpty else { return 0 }
        return Double(zip(yTrue, yPred).filter { $0 == $1 }.count) / Double(yTrue.count)
    }

    /// `confusion_matrix`: rows are true labels, columns predicted, in `labels` order.
    public static func confusionMatrix(_ yTrue: [Int], _ yPred: [Int], labels: [Int]? = nil) -> [[Int]] {
        let labels = labels ?? uniqueLabels(yTrue, yPred)
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        var m = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (t, p) in zip(yTrue, yPred) { if let i = index[t], let j = index[p] { m[i][j] += 1 } }
        return m
    }

    /// `balanced_accuracy_score`: mean recall over classes present in `yTrue`.
    public static func balancedAccuracy(_ yTrue: [Int], _ yPred: [Int]) -> Double {
        let m = confusionMatrix(yTrue, yPred)
        var recalls: [Double] = []
        for (i, row) in m.enumerated() {
            let support = row.reduce(0, +)
            if support > 0 { recalls.append(Double(row[i]) / Double(support)) }
        }
        return recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count)
    }

    /// Per-class scores (`average=None`), in `labels` order.
    public static func perClass(_ yTrue: [Int], _ yPred: [Int], labels: [Int]? = nil, zeroDivision: ZeroDivision = .zero) -> [PRFScore] {
        let labels = labels ?? uniqueLabels(yTrue, yPred)
        return labels.map { l in
            var tp = 0, fp = 0, fn = 0
            for (t, p) in zip(yTrue, yPred) {
                if p == l && t == l { tp += 1 } else if p == l { fp += 1 } else if t == l { fn += 1 }
            }
            return score(tp: tp, fp: fp, fn: fn, support: tp + fn, zeroDivision: zeroDivision)
        }
    }

    static func score(tp: Int, fp: Int, fn: Int, support: Int, zeroDivision: ZeroDivision) -> PRFScore {
        let p = tp + fp > 0 ? Double(tp) / Double(tp + fp) : zeroDivision.value
        let r = tp + fn > 0 ? Double(tp) / Double(tp + fn) : zeroDivision.value
        let f = 2 * tp + fp + fn > 0 ? Double(2 * tp) / Double(2 * tp + fp + fn) : zeroDivision.value
        return PRFScore(precision: p, recall: r, f1: f, support: support)
    }

    /// `precision_recall_fscore_support` with an average.
    public static func score(_ yTrue: [Int], _ yPred: [Int], average: Average, labels: [Int]? = nil,
                             zeroDivision: ZeroDivision = .zero) -> PRFScore {
        let labels = labels ?? uniqueLabels(yTrue, yPred)
        let rows = perClass(yTrue, yPred, labels: labels, zeroDivision: zeroDivision)
        let total = rows.reduce(0) { $0 + $1.support }
        switch average {
        case .binary(let positive):
            return perClass(yTrue, yPred, labels: [positive], zeroDivision: zeroDivision)[0]
        case .micro:
            var tp = 0, fp = 0, fn = 0
            for l in labels {
                for (t, p) in zip(yTrue, yPred) {
                    if p == l && t == l { tp += 1 } else if p == l { fp += 1 } else if t == l { fn += 1 }
                }
            }
            return score(tp: tp, fp: fp, fn: fn, support: total, zeroDivision: zeroDivision)
        case .macro: return macroAverage(rows, zeroDivision: zeroDivision)
        case .weighted: return weightedAverage(rows, zeroDivision: zeroDivision)
        }
    }

    /// Unweighted mean of per-class scores; like scikit-learn, NaN entries (zero_division=nan) are skipped.
    static func macroAverage(_ rows: [PRFScore], zeroDivision: ZeroDivision) -> PRFScore {
        func mean(_ k: KeyPath<PRFScore, Double>) -> Double {
            let v = rows.map { $0[keyPath: k] }.filter { !$0.isNaN }
            return v.isEmpty ? zeroDivision.value : numpySum(v) / Double(v.count)
        }
        return PRFScore(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: rows.reduce(0) { $0 + $1.support })
    }

    /// Mean of per-class scores weighted by support (NaN entries skipped).
    static func weightedAverage(_ rows: [PRFScore], zeroDivision: ZeroDivision) -> PRFScore {
        func mean(_ k: KeyPath<PRFScore, Double>) -> Double {
            let v = rows.filter { !$0[keyPath: k].isNaN }
            let weight = v.reduce(0) { $0 + $1.support }
            if v.isEmpty { return zeroDivision.value }
            // All supports zero: scikit-learn's `_nanaverage` falls back to the unweighted mean.
            if weight == 0 { return numpySum(v.map { $0[keyPath: k] }) / Double(v.count) }
            return numpySum(v.map { $0[keyPath: k] * Double($0.support) }) / Double(weight)
        }
        return PRFScore(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: rows.reduce(0) { $0 + $1.support })
    }

    /// A sum in NumPy's order (pairwise, eight accumulators per block of up to 128), so that
    /// means land on the same last bit as scikit-learn's and round the same way in reports.
    static func numpySum(_ v: [Double]) -> Double {
        v.withUnsafeBufferPointer { pairwiseSum($0[...]) }
    }

    private static func pairwiseSum(_ a: Slice<UnsafeBufferPointer<Double>>) -> Double {
        let n = a.count, start = a.startIndex
        if n < 8 {
            var sum = 0.0
            for x in a { sum += x }
            return sum
        }
        if n <= 128 {
            var r = (0..<8).map { a[start + $0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += a[start + i + j] }
                i += 8
            }
            var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n { sum += a[start + i]; i += 1 }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(a[start..<(start + half)]) + pairwiseSum(a[(start + half)...])
    }

    /// `classification_report` as text, character for character as scikit-learn prints it.
    public static func classificationReport(_ yTrue: [Int], _ yPred: [Int], labels: [Int]? = nil, targetNames: [String]? = nil,
                                            digits: Int = 2, zeroDivision: ZeroDivision = .zero) -> String {
        report(yTrue, yPred, labels: labels, targetNames: targetNames, digits: digits, zeroDivision: zeroDivision).text
    }

    /// `classification_report` as values (scikit-learn's `output_dict=True`) with its text.
    public static func report(_ yTrue: [Int], _ yPred: [Int], labels: [Int]? = nil, targetNames: [String]? = nil,
                              digits: Int = 2, zeroDivision: ZeroDivision = .zero) -> ClassificationReport {
        let present = uniqueLabels(yTrue, yPred)
        let labels = labels ?? present
        let names = targetNames ?? labels.map(String.init)
        let microIsAccuracy = Set(labels).isSuperset(of: present)
        // scikit-learn quirk, reproduced: with no correct prediction at all its counts become
        // floats, and supports print as "59.0".
        let floatSupports = !zip(yTrue, yPred).contains { $0 == $1 }
        let rows = perClass(yTrue, yPred, labels: labels, zeroDivision: zeroDivision)
        let averages = [(Average.micro, "micro avg"), (.macro, "macro avg"), (.weighted, "weighted avg")].map { average, title in
            ReportRow(title: average == .micro && microIsAccuracy ? "accuracy" : title,
                      score: score(yTrue, yPred, average: average, labels: labels, zeroDivision: zeroDivision),
                      f1Only: average == .micro && microIsAccuracy)
        }
        return ClassificationReport(classes: zip(names, rows).map { ClassificationReport.ClassRow(name: $0, score: $1) },
                                    accuracy: microIsAccuracy ? averages[0].score.f1 : nil,
                                    microAverage: microIsAccuracy ? nil : averages[0].score,
                                    macroAverage: averages[1].score, weightedAverage: averages[2].score,
                                    text: formatReport(names: names, rows: rows, averages: averages, digits: digits, floatSupports: floatSupports))
    }

    /// One summary line of a report: an average (or "accuracy", printed in the f1 column only).
    struct ReportRow {
        var title: String
        var score: PRFScore
        var f1Only = false
    }

    /// The text layout of scikit-learn's `classification_report`.
    static func formatReport(names: [String], rows: [PRFScore], averages: [ReportRow], digits: Int, floatSupports: Bool = false) -> String {
        let width = max(names.map(\.count).max() ?? 0, "weighted avg".count, digits)
        func right(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
        func number(_ v: Double) -> String { right(v.isNaN ? "nan" : String(format: "%.\(digits)f", v), 9) }
        func support(_ n: Int) -> String { right(floatSupports ? "\(n).0" : String(n), 9) }
        var report = right("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + right($0, 9) }.joined() + "\n\n"
        for (name, r) in zip(names, rows) {
            report += right(name, width) + " " + " " + number(r.precision) + " " + number(r.recall) + " " + number(r.f1) + " " + support(r.support) + "\n"
        }
        report += "\n"
        for a in averages {
            let pr = a.f1Only ? right("", 9) + " " + right("", 9) : number(a.score.precision) + " " + number(a.score.recall)
            report += right(a.title, width) + " " + " " + pr + " " + number(a.score.f1) + " " + support(a.score.support) + "\n"
        }
        return report
    }

    /// Area under the ROC curve for binary labels (1 = positive) and scores, with ties handled
    /// as scikit-learn's `roc_auc_score` does (trapezoids over distinct thresholds).
    public static func rocAUC(_ yTrue: [Int], scores: [Double]) -> Double {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let positives = Double(yTrue.filter { $0 == 1 }.count), negatives = Double(yTrue.count) - positives
        guard positives > 0, negatives > 0 else { return .nan }
        var tp = 0.0, fp = 0.0, prevTP = 0.0, prevFP = 0.0, area = 0.0
        var i = 0
        while i < order.count {
            let s = scores[order[i]]
            while i < order.count && scores[order[i]] == s { if yTrue[order[i]] == 1 { tp += 1 } else { fp += 1 }; i += 1 }
            area += (fp - prevFP) * (tp + prevTP) / 2
            prevTP = tp; prevFP = fp
        }
        return area / (positives * negatives)
    }
}
