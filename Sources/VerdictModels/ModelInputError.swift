/// Inputs a model cannot classify, with the message `transformers` gives for the same batch.
public enum ModelInputError: Error, Equatable, CustomStringConvertible {
    /// A decoder without `pad_token_id` given more than one sequence.
    case noPaddingToken
    /// mBART-style heads: sequences with different numbers of `</s>`.
    case unequalEndOfSequenceCounts
    /// mBART-style heads: no `</s>` (`eos_token_id`) to read the state from.
    case noEndOfSequence(Int)

    public var description: String {
        switch self {
        case .noPaddingToken:
            return "Cannot handle batch sizes > 1 if no padding token is defined. (Set pad_token_id in config.json, or classify one text at a time.)"
        case .unequalEndOfSequenceCounts: return "All examples must have the same number of <eos> tokens."
        case .noEndOfSequence(let id):
            return "The input holds no end-of-sequence token (eos_token_id \(id)) to classify from; the tokenizer must add it."
        }
    }
}
