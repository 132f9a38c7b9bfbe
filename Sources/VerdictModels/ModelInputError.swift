/// Inputs a model cannot classify, with the message `transformers` gives for the same batch.
public enum ModelInputError: Error, Equatable, CustomStringConvertible {
    /// A decoder without `pad_token_id` given more than one sequence.
    case noPaddingToken
    /// mBART-style heads: sequences with different numbers of `</s>`.
    case unequalEndOfSequenceCounts
    /// mBART-style heads: no `</s>` (`eos_token_id`) to read the state from.
    case noEndOfSequence(Int)
    /// A token id the embedding table has no row for (a tokenizer paired with another model).
    case tokenIdOutOfRange(id: Int, vocabularySize: Int)
    /// A token type the model has no embedding for.
    case tokenTypeOutOfRange(type: Int, typeVocabularySize: Int)
    /// A sequence longer than the model's position table.
    case sequenceTooLong(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .noPaddingToken:
            return "Cannot handle batch sizes > 1 if no padding token is defined. (Set pad_token_id in config.json, or classify one text at a time.)"
        case .unequalEndOfSequenceCounts: return "All examples must have the same number of <eos> tokens."
        case .noEndOfSequence(let id):
            return "The input holds no end-of-sequence token (eos_token_id \(id)) to classify from; the tokenizer must add it."
        case let .tokenIdOutOfRange(id, size):
            return "token id \(id) is outside the model's vocabulary (vocab_size \(size)): the tokenizer does not belong to this model"
        case let .tokenTypeOutOfRange(type, size):
            return "token type \(type) is outside the model's token types (type_vocab_size \(size))"
        case let .sequenceTooLong(length, maximum):
            return "a sequence of \(length) tokens is longer than the model takes (\(maximum)); truncate it"
        }
    }
}
