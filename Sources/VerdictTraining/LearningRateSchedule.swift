import Foundation

/// Learning-rate schedules of `transformers` (`lr_scheduler_type`), with linear warmup.
public enum LearningRateSchedule: String, Sendable, CaseIterable {
    case linear, cosine, constant
    case constantWithWarmup = "constant_with_warmup"

    /// The multiplier of the base learning rate at `step` (0-based, the step about to be taken).
    public func factor(step: Int, warmupSteps: Int, totalSteps: Int) -> Float {
        if self == .constant { return 1 }
        if step < warmupSteps { return Float(step) / Float(max(1, warmupSteps)) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        switch self {
        case .linear: return Float(max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warmupSteps))))
        case .cosine: return Float(max(0, 0.5 * (1 + cos(Double.pi * progress))))
        case .constant, .constantWithWarmup: return 1
        }
    }
}
