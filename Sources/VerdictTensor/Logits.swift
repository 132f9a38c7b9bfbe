import Foundation

/// Logits to probabilities: the one softmax, sigmoid and arg-max that the pipeline, the server,
/// the trainer's loss and the metrics share. Everything is computed in double precision.
public enum Logits {
    /// The softmax of one row: the largest value is subtracted first, so large logits do not
    /// overflow; a NaN anywhere gives NaN probabilities.
    public static func softmax<C: Collection<Float>>(_ row: C) -> [Double] {
        let m = Double(row.max() ?? 0)
        let e = row.map { Foundation.exp(Double($0) - m) }
        let z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    /// `log(Σ exp(x))` of one row, computed without overflow (cross-entropy's normaliser).
    public static func logSumExp<C: Collection<Float>>(_ row: C) -> Double {
        let m = Double(row.max() ?? 0)
        return Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }) + m
    }

    /// The logistic function `1 / (1 + e^-x)`.
    public static func sigmoid(_ x: Float) -> Double { 1 / (1 + Foundation.exp(-Double(x))) }

    /// The position of the largest value, the first among equals. NaN never wins and never traps
    /// (a diverged run's logits); an empty or all-NaN row gives its start index.
    public static func argmax<C: Collection<Float>>(_ row: C) -> C.Index {
        var best = row.firstIndex { !$0.isNaN } ?? row.startIndex
        for i in row.indices where !row[i].isNaN && row[i] > row[best] { best = i }
        return best
    }
}
