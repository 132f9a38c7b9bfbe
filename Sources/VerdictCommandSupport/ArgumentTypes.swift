import ArgumentParser
import Verdict

// The library's enumerations as command-line values, shared by `verdict` and `verdict-serve`:
// the parser checks them and lists the allowed values in errors and help.

extension InferencePrecision: ExpressibleByArgument {
    /// The precision's name, or PyTorch's short one (`fp32`, `bf16`).
    public init?(argument: String) {
        switch argument {
        case "fp32": self = .float32
        case "bf16": self = .bfloat16
        default: self.init(rawValue: argument)
        }
    }
}

extension SentencePooling: ExpressibleByArgument {}

extension LearningRateSchedule: ExpressibleByArgument {}

extension IntervalStrategy: ExpressibleByArgument {}

extension SaveDType: ExpressibleByArgument {}

extension TopK: ExpressibleByArgument {
    /// A positive number or `all`.
    public init?(argument: String) {
        if argument == "all" { self = .all; return }
        guard let k = Int(argument), k > 0 else { return nil }
        self = k == 1 ? .one : .k(k)
    }

    public var defaultValueDescription: String {
        switch self {
        case .one: return "1"
        case .k(let k): return String(k)
        case .all: return "all"
        }
    }
}

extension ScoreFunction: ExpressibleByArgument {
    /// `auto` (the pipeline's choice), `softmax`, `sigmoid` or `none` (the logits).
    public init?(argument: String) { self.init(rawValue: argument == "auto" ? "automatic" : argument) }
    public var defaultValueDescription: String { self == .automatic ? "auto" : rawValue }
    public static var allValueStrings: [String] { allCases.map(\.defaultValueDescription) }

    public static var allValueDescriptions: [String: String] {
        ["auto": "sigmoid for multi-label or one-output models, else softmax (as transformers)",
         "softmax": "probabilities over the labels, summing to 1", "sigmoid": "an independent probability per label",
         "none": "the raw logits"]
    }
}
