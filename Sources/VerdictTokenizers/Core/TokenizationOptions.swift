/// How to pad, truncate and decorate encodings: the arguments of `tokenizer(text, padding:, truncation:, max_length:, …)`.
public struct TokenizationOptions: Sendable, Equatable {
    /// Padding strategies, as in `transformers`.
    public enum Padding: Sendable, Equatable {
        /// No padding (`padding=False`).
        case none
        /// Pad to the longest encoding in the batch (`padding=True` / `"longest"`).
        case longest
        /// Pad to `maxLength` (or the model's maximum) (`padding="max_length"`).
        case maxLength
    }

    /// Truncation strategies, as in `transformers`.
    public enum Truncation: Sendable, Equatable {
        case none
        /// Remove tokens from the longer sequence first (`truncation=True`).
        case longestFirst
        case onlyFirst
        case onlySecond
    }

    public var addSpecialTokens: Bool
    public var padding: Padding
    public var truncation: Truncation
    /// `nil` means the tokenizer's `modelMaxLength`.
    public var maxLength: Int?
    /// Overlap between a truncated encoding and its overflowing windows.
    public var stride: Int
    public var padToMultipleOf: Int?
    public var paddingSide: Side
    public var truncationSide: Side
    /// Return the overflowing windows as extra rows of a batch (`return_overflowing_tokens=True`).
    public var returnOverflowingTokens: Bool

    public init(addSpecialTokens: Bool = true, padding: Padding = .none, truncation: Truncation = .none,
                maxLength: Int? = nil, stride: Int = 0, padToMultipleOf: Int? = nil,
                paddingSide: Side = .right, truncationSide: Side = .right, returnOverflowingTokens: Bool = false) {
        self.addSpecialTokens = addSpecialTokens; self.padding = padding; self.truncation = truncation
        self.maxLength = maxLength; self.stride = stride; self.padToMultipleOf = padToMultipleOf
        self.paddingSide = paddingSide; self.truncationSide = truncationSide
        self.returnOverflowingTokens = returnOverflowingTokens
    }

    /// No padding and no truncation.
    public static let plain = TokenizationOptions()
}

/// A batch of encodings as model inputs: one row per text (plus one per overflowing window when asked).
public struct BatchEncoding: Sendable, Equatable {
    public var encodings: [Encoding]
    /// For each row, the index of the input text it came from.
    public var overflowToSampleMapping: [Int]

    public var inputIds: [[Int]] { encodings.map(\.ids) }
    public var attentionMask: [[Int]] { encodings.map(\.attentionMask) }
    public var tokenTypeIds: [[Int]] { encodings.map(\.typeIds) }
    public var specialTokensMask: [[Int]] { encodings.map(\.specialTokensMask) }
    public var offsetMapping: [[Encoding.Offset]] { encodings.map(\.offsets) }
    public var tokens: [[String]] { encodings.map(\.tokens) }
    public var count: Int { encodings.count }
}
