import ArgumentParser
import Verdict

/// `--model` and `--dtype`: which model a command runs and the number format its `Linear` layers
/// compute in. One option group for `classify`, `evaluate`, `serve` and the benchmarks, so they
/// read and explain the two the same way.
public struct ModelOptions: ParsableArguments {
    @Option(name: [.long, .customLong("model-id")],
            help: "Model folder or cached Hub id (default: the bundled sentiment model).")
    public var model: String?

    @Option(help: "Number format of the Linear layers: int8 is dynamic quantisation, bfloat16 (bf16) keeps the weights at half the memory of float32 (default: the checkpoint's own).")
    public var dtype: InferencePrecision?

    public init() {}
}
