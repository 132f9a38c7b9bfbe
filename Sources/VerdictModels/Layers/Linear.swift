import VerdictTensor

/// Which normalisation a model uses: LayerNorm (BERT, GPT-2, mBART; with or without a bias) or
/// RMSNorm (LLaMA-family).
enum NormKind: Sendable { case layerNorm, rmsNorm }

/// `Linear` and norm layers addressed by checkpoint prefix: `<prefix>.weight`, `<prefix>.bias`.
extension ParameterStore {
    func linear(_ x: Tensor, _ prefix: String) -> Tensor {
        linearNames?.record(prefix + ".weight")
        switch packedWeight(prefix + ".weight") {
        case .panels(let packed)?:
            return OpProfiler.measure(packed.element == .bfloat16 ? .linearBFloat16 : .linearFloat32) { Ops.linear(x, packedWeight: packed, bias: tensors[prefix + ".bias"]) }
        case .int8(let quantized)?: return OpProfiler.measure(.linearInt8) { Ops.linear(x, quantizedWeight: quantized, bias: tensors[prefix + ".bias"]) }
        case nil: break
        }
        return OpProfiler.measure(.linearFloat32) { Ops.linear(x, weight: self[prefix + ".weight"], bias: tensors[prefix + ".bias"]) }
    }

    /// Backward of `linear`: accumulates the weight and bias gradients into `grads`, returns dx.
    func linearBackward(_ dy: Tensor, input x: Tensor, _ prefix: String, grads: inout ParameterStore) -> Tensor {
        var dBias: Tensor? = grads.tensors[prefix + ".bias"]
        let dx = grads.modify(prefix + ".weight") { dW in
            Ops.linearBackward(dy, input: x, weight: self[prefix + ".weight"], dWeight: &dW, dBias: &dBias)
        }
        if let dBias { grads[prefix + ".bias"] = dBias }
        return dx
    }

    /// LayerNorm `<prefix>.weight` (and `<prefix>.bias` when the model has one: ModernBERT's have none).
    func layerNorm(_ x: Tensor, _ prefix: String, eps: Float) -> (Tensor, Ops.NormCache) {
        let gamma = self[prefix + ".weight"]
        return Ops.layerNorm(x, gamma: gamma, beta: tensors[prefix + ".bias"] ?? Tensor(shape: gamma.shape), eps: eps)
    }

    /// A norm of either kind (RMSNorm has a weight only).
    func norm(_ x: Tensor, _ prefix: String, _ kind: NormKind, eps: Float) -> (Tensor, Ops.NormCache) {
        OpProfiler.measure(.norm) {
            guard kind == .rmsNorm else { return layerNorm(x, prefix, eps: eps) }
            return Ops.rmsNorm(x, gamma: self[prefix + ".weight"], eps: eps)
        }
    }

    func normBackward(_ dy: Tensor, input x: Tensor, cache: Ops.NormCache, _ prefix: String, _ kind: NormKind,
                      grads: inout ParameterStore) -> Tensor {
        guard kind == .rmsNorm else { return layerNormBackward(dy, input: x, cache: cache, prefix, grads: &grads) }
        return grads.modify(prefix + ".weight") { dGamma in
            Ops.rmsNormBackward(dy, input: x, gamma: self[prefix + ".weight"], cache: cache, dGamma: &dGamma)
        }
    }

    func layerNormBackward(_ dy: Tensor, input x: Tensor, cache: Ops.NormCache, _ prefix: String, grads: inout ParameterStore) -> Tensor {
        let hasBias = grads.contains(prefix + ".bias")
        var dGamma = grads[prefix + ".weight"], dBeta = hasBias ? grads[prefix + ".bias"] : Tensor(shape: dGamma.shape)
        let dx = Ops.layerNormBackward(dy, input: x, gamma: self[prefix + ".weight"], cache: cache, dGamma: &dGamma, dBeta: &dBeta)
        grads[prefix + ".weight"] = dGamma
        if hasBias { grads[prefix + ".bias"] = dBeta }
        return dx
    }
}
