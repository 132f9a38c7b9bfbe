/// Training that cannot start.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// Not one optimizer step fits in an epoch: no examples, or fewer batches than
    /// `gradient_accumulation_steps` (the loop would never advance).
    case noTrainingSteps(examples: Int, batchSize: Int, accumulation: Int)
    /// `eval_strategy` asks for evaluations but there is no evaluation dataset.
    case evaluationWithoutData(strategy: IntervalStrategy)
    /// A classifier's training data holds fewer than two classes (nothing to tell apart: the loss is 0 from the start).
    case singleClass(label: String)

    public var description: String {
        switch self {
        case let .noTrainingSteps(examples, batchSize, accumulation):
            return "the training data has \(examples) examples: not one optimizer step of \(accumulation) batch(es) of up to \(batchSize) fits in an epoch"
                + " (add examples, or lower --batch-size / gradient_accumulation_steps)"
        case let .evaluationWithoutData(strategy):
            return "eval_strategy (--eval-strategy) is \(strategy.rawValue) but there is no evaluation data: give --eval FILE (or \"eval\" in the recipe), or leave eval_strategy at no"
        case let .singleClass(label):
            return "every training example has the label \"\(label)\": a classifier needs examples of at least two classes"
        }
    }
}
