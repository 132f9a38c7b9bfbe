/// The number format a model's `Linear` layers compute in when it serves predictions.
///
/// `.int8` is dynamic quantisation, as `torch.ao.quantization.quantize_dynamic` and ONNX Runtime's
/// `quantize_dynamic` do it: weights int8 per output channel (7-bit range, see `QuantizedMatrix`),
/// activations quantised per token at each call, int32 sums scaled back to `Float`. Everything else
/// (embeddings, attention scores, norms, activations, the residual stream) stays `Float`.
public enum InferencePrecision: String, Sendable, CaseIterable {
    case float32
    case int8
}
