/// Training that cannot start.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// Not one optimizer step fits in an epoch: no examples, or fewer batches than
    /// `gradient_accumulation_steps` (the loop would never advance).
    case noTrainingSteps(examples: Int, batchSize: Int, accumulation: Int)

    public var description: String {
        switch self {
        case let .noTrainingSteps(examples, batchSize, accumulation):
            return "the training data has \(examples) examples: not one optimizer step of \(accumulation) batch(es) of up to \(batchSize) fits in an epoch"
                + " (add examples, or lower --batch-size / gradient_accumulation_steps)"
        }
    }
}
