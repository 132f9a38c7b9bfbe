/// The number format a model's `Linear` layers compute in when it serves predictions.
///
/// `.int8` is dynamic quantisation, as `torch.ao.quantization.quantize_dynamic` and ONNX Runtime's
/// `quantize_dynamic` do it: weights int8 per output channel (7-bit range, see `QuantizedMatrix`),
/// activations quantised per token at each call, int32 sums scaled back to `Float`. Everything else
/// (embeddings, attention scores, norms, activations, the residual stream) stays `Float`.
///
/// `.bfloat16` keeps each `Linear` weight as bfloat16 (rounded to nearest, as `tensor.to(torch.bfloat16)`
/// does): half the weight memory of `.float32`. Weights are widened exactly as they are read and
/// the sums run in `Float`, so the result is what `transformers` computes in float32 with the
/// weights rounded to bfloat16.
public enum InferencePrecision: String, Sendable, CaseIterable {
    case float32
    case int8
    case bfloat16
}
