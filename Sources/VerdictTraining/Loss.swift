import Foundation
import VerdictHub
import VerdictTensor

/// Training targets for one batch, by problem type.
public enum Targets: Sendable {
    /// Class ids (single-label classification).
    case classes([Int])
    /// Multi-hot rows `[batch][numLabels]` (multi-label classification).
    case multiHot([[Float]])
    /// One value per example (regression, `num_labels == 1`).
    case values([Float])
}

/// The losses `transformers` uses for sequence classification, each returning the mean loss and
/// the gradient with respect to the logits.
public enum Loss {
    /// Cross-entropy over softmax (`CrossEntropyLoss`, mean), with optional class weights
    /// (weighted mean, as PyTorch does).
    public static func crossEntropy(_ logits: Tensor, _ classes: [Int], classWeights: [Float]? = nil) -> (Float, Tensor) {
        let n = logits.shape[0], c = logits.shape[1]
        var grad = Tensor(shape: logits.shape)
        var total = 0.0, weightSum = 0.0
        for i in 0..<n {
            let row = logits.scalars[(i * c)..<((i + 1) * c)]
            let probabilities = Logits.softmax(row)
            let w = Double(classWeights?[classes[i]] ?? 1)
            total += w * (Logits.logSumExp(row) - Double(row[i * c + classes[i]]))
            weightSum += w
            for j in 0..<c { grad.scalars[i * c + j] = Float(w * (probabilities[j] - (j == classes[i] ? 1 : 0))) }
        }
        for k in 0..<grad.count { grad.scalars[k] = Float(Double(grad.scalars[k]) / weightSum) }
        return (Float(total / weightSum), grad)
    }

    /// Binary cross-entropy on logits, mean over all elements (`BCEWithLogitsLoss`).
    public static func binaryCrossEntropy(_ logits: Tensor, _ targets: [[Float]]) -> (Float, Tensor) {
        let n = logits.shape[0], c = logits.shape[1]
        var grad = Tensor(shape: logits.shape)
        var total = 0.0
        for i in 0..<n {
            for j in 0..<c {
                let z = Double(logits.scalars[i * c + j]), y = Double(targets[i][j])
                total += max(z, 0) - z * y + log1p(exp(-abs(z)))
                grad.scalars[i * c + j] = Float((Logits.sigmoid(logits.scalars[i * c + j]) - y) / Double(n * c))
            }
        }
        return (Float(total / Double(n * c)), grad)
    }

    /// Mean squared error (`MSELoss`) for one output per example.
    public static func meanSquaredError(_ logits: Tensor, _ values: [Float]) -> (Float, Tensor) {
        let n = logits.shape[0]
        var grad = Tensor(shape: logits.shape)
        var total = 0.0
        for i in 0..<n {
            let d = Double(logits.scalars[i]) - Double(values[i])
            total += d * d
            grad.scalars[i] = Float(2 * d / Double(n))
        }
        return (Float(total / Double(n)), grad)
    }

    /// The loss `transformers` picks for a config and targets.
    public static func compute(_ logits: Tensor, _ targets: Targets, classWeights: [Float]? = nil) -> (Float, Tensor) {
        switch targets {
        case .classes(let c): return crossEntropy(logits, c, classWeights: classWeights)
        case .multiHot(let y): return binaryCrossEntropy(logits, y)
        case .values(let v): return meanSquaredError(logits, v)
        }
    }
}
