import VerdictJSON

/// Verdict's int8 checkpoint layout, what `verdict quantize` writes (docs/Performance.md).
///
/// A plain `model.safetensors` any safetensors reader opens: every quantised `Linear` weight
/// `<name>` (`[out, in]`, the `Linear` layout, for GPT-2's Conv1D weights too) is stored as `I8`
/// with values in ±63 (`QuantizedMatrix.maxQuantizedMagnitude`), beside `<name>_scale`, `F32
/// [out]`: the weight is `q[n, k] * scale[n]`. Every other tensor is a float type (`F32`, or the
/// source's `F16`/`BF16`). `config.json` carries
/// `"quantization_config": {"quant_method": "verdict_int8", ...}` describing the scheme; Verdict
/// refuses other quantisation methods with a clear error rather than misreading their tensors.
public enum QuantizedLayout {
    /// The suffix of a quantised weight's per-channel scales.
    public static let scaleSuffix = "_scale"
    /// `quantization_config.quant_method` of Verdict's int8 checkpoints.
    public static let method = "verdict_int8"

    /// The `quantization_config` written into `config.json`.
    public static var config: JSONValue {
        .object([
            ("quant_method", .string(method)),
            ("weights", .string("int8 per output channel, symmetric, values in [-63, 63]; weight = q * <name>_scale")),
            ("activations", .string("dynamic: uint8 per token, asymmetric (scale and zero point computed at run time)")),
            ("weight_bits", .int(7)),
        ])
    }
}
