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
        case .macro:
            // scikit-learn averages ignore NaN entries (zero_division=nan).
            func mean(_ k: KeyPath<PRFScore, Double>) -> Double {
                let v = rows.map { $0[keyPath: k] }.filter { !$0.isNaN }
                return v.isEmpty ? zeroDivision.value : v.reduce(0, +) / Double(v.count)
            }
            return PRFScore(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: total)
        case .weighted:
            func mean(_ k: KeyPath<PRFScore, Double>) -> Double {
                let v = rows.filter { !$0[keyPath: k].isNaN }
                let weight = v.reduce(0) { $0 + $1.support }
                return weight == 0 ? zeroDivision.value : v.map { $0[keyPath: k] * Double($0.support) }.reduce(0, +) / Double(weight)
            }
            return PRFScore(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: total)
        }
    }

    /// `classification_report` as text, character for character as scikit-learn prints it.
    public static func classificationReport(_ yTrue: [Int], _ yPred: [Int], labels: [Int]? = nil, targetNames: [String]? = nil,
                                            digits: Int = 2, zeroDivision: ZeroDivision = .zero) -> String {
        let present = uniqueLabels(yTrue, yPred)
        let labels = labels ?? present
        let names = targetNames ?? labels.map(String.init)
        let microIsAccuracy = Set(labels).isSuperset(of: present)
        let heading = "weighted avg"
        let width = max(names.map(\.count).max() ?? 0, heading.count, digits)
        func right(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
        func number(_ v: Double) -> String { right(v.isNaN ? "nan" : String(format: "%.\(digits)f", v), 9) }
        // scikit-learn quirk, reproduced: with no correct prediction at all its counts become
        // floats, and supports print as "59.0".
        let floatSupports = !zip(yTrue, yPred).contains { $0 == $1 }
        func support(_ n: Int) -> String { right(floatSupports ? "\(n).0" : String(n), 9) }
        var report = right("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + right($0, 9) }.joined() + "\n\n"
        let rows = perClass(yTrue, yPred, labels: labels, zeroDivision: zeroDivision)
        for (name, r) in zip(names, rows) {
            report += right(name, width) + " " + " " + number(r.precision) + " " + number(r.recall) + " " + number(r.f1) + " " + support(r.support) + "\n"
        }
        report += "\n"
        for (average, title) in [(Average.micro, "micro avg"), (.macro, "macro avg"), (.weighted, "weighted avg")] {
            let a = score(yTrue, yPred, average: average, labels: labels, zeroDivision: zeroDivision)
            if average == .micro && microIsAccuracy {
                report += right("accuracy", width) + " " + " " + right("", 9) + " " + right("", 9) + " " + number(a.f1) + " " + support(a.support) + "\n"
            } else {
                report += right(title, width) + " " + " " + number(a.precision) + " " + number(a.recall) + " " + number(a.f1) + " " + support(a.support) + "\n"
            }
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
