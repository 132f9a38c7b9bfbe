import Foundation
import VerdictHub
import VerdictTensor

/// An encoder with a classification head (`AutoModelForSequenceClassification`):
///
/// - BERT: `classifier(Dropout(pooler(h[CLS])))`
/// - DistilBERT: `classifier(Dropout(ReLU(pre_classifier(h[CLS]))))`
/// - custom (`config.customHead`): `classifier.out_proj(Dropout(ReLU(classifier.dense(pool(h)))))`
///   with `[CLS]`, mean or pooler pooling.
///
/// Forward and backward live side by side; the backward pass accumulates gradients under the
/// same names as `parameters`.
public final class SequenceClassifier: @unchecked Sendable {
    public var config: ModelConfig
    public let encoder: any EncoderModel
    public var parameters: ParameterStore
    public let loadReport: LoadReport

    public init(config: ModelConfig, encoder: any EncoderModel, parameters: ParameterStore, loadReport: LoadReport = LoadReport()) {
        self.config = config; self.encoder = encoder; self.parameters = parameters; self.loadReport = loadReport
    }

    /// Names and shapes of the head's parameters.
    static func headShapes(_ config: ModelConfig, encoder: any EncoderModel) -> [(String, [Int])] {
        let h = config.hiddenSize, l = config.numLabels
        if let custom = config.customHead {
            return [("classifier.dense.weight", [custom.hiddenWidth, h]), ("classifier.dense.bias", [custom.hiddenWidth]),
                    ("classifier.out_proj.weight", [l, custom.hiddenWidth]), ("classifier.out_proj.bias", [l])]
        }
        let pre: [(String, [Int])] = encoder.hasPooler ? [] : [("pre_classifier.weight", [h, h]), ("pre_classifier.bias", [h])]
        return pre + [("classifier.weight", [l, h]), ("classifier.bias", [l])]
    }

    /// The two-layer head (Linear → ReLU → Dropout → Linear) of DistilBERT and of the custom head;
    /// nil for BERT's single `classifier` on the pooler output.
    var mlpHead: (hidden: String, out: String, dropout: Float)? {
        if let custom = config.customHead { return ("classifier.dense", "classifier.out_proj", custom.dropout) }
        return encoder.hasPooler ? nil : ("pre_classifier", "classifier", config.classifierDropout)
    }

    /// Activations for the backward pass.
    public struct Cache {
        var encoder: EncoderCache
        var hidden: Tensor
        var pooledInput: Tensor
        var poolerOutput: Tensor?
        var headInput: Tensor
        var headHidden: Tensor?
        var headHiddenActivated: Tensor?
        var drop: [Float]?
    }

    /// Logits `[batch, numLabels]`. Pass a generator to apply dropout (training).
    public func forward(_ batch: PackedBatch, rng: inout SplitMix64?, keepCache: Bool = false) -> (Tensor, Cache?) {
        let p = parameters
        let (hidden, encoderCache) = encoder.forward(batch, p, rng: &rng, keepCache: keepCache)
        let pooling = config.customHead?.pooling ?? (encoder.hasPooler ? .pooler : .cls)
        let pooledInput = pooling == .mean ? Pooling.mean(hidden, offsets: batch.offsets) : Pooling.first(hidden, offsets: batch.offsets)
        var headInput = pooledInput
        var poolerOutput: Tensor? = nil
        if pooling == .pooler {
            headInput = p.linear(pooledInput, encoder.poolerName)
            for i in 0..<headInput.count { headInput.scalars[i] = tanh(headInput.scalars[i]) }
            poolerOutput = headInput
        }
        var logits: Tensor
        var headHidden: Tensor? = nil, activated: Tensor? = nil, drop: [Float]? = nil
        if let mlp = mlpHead {
            let z = p.linear(headInput, mlp.hidden)
            var a = Ops.activate(z, .relu)
            drop = Dropout.mask(count: a.count, p: mlp.dropout, rng: &rng)
            Dropout.apply(&a, drop)
            logits = p.linear(a, mlp.out)
            headHidden = z; activated = a
        } else {
            var x = headInput
            drop = Dropout.mask(count: x.count, p: config.classifierDropout, rng: &rng)
            Dropout.apply(&x, drop)
            logits = p.linear(x, "classifier")
            activated = x
        }
        guard keepCache, let encoderCache else { return (logits, nil) }
        return (logits, Cache(encoder: encoderCache, hidden: hidden, pooledInput: pooledInput, poolerOutput: poolerOutput,
                              headInput: headInput, headHidden: headHidden, headHiddenActivated: activated, drop: drop))
    }

    /// Accumulates the gradients of every parameter given `dLogits`.
    public func backward(_ dLogits: Tensor, cache c: Cache, batch: PackedBatch, grads: inout ParameterStore) {
        let p = parameters
        var dHeadInput: Tensor
        if let mlp = mlpHead {
            var dA = p.linearBackward(dLogits, input: c.headHiddenActivated!, mlp.out, grads: &grads)!
            Dropout.apply(&dA, c.drop)
            let dZ = Ops.activationBackward(dA, input: c.headHidden!, .relu)
            dHeadInput = p.linearBackward(dZ, input: c.headInput, mlp.hidden, grads: &grads)!
        } else {
            dHeadInput = p.linearBackward(dLogits, input: c.headHiddenActivated!, "classifier", grads: &grads)!
            Dropout.apply(&dHeadInput, c.drop)
        }
        var dPooledInput = dHeadInput
        if let pooled = c.poolerOutput {
            var dz = dHeadInput
            for i in 0..<dz.count { dz.scalars[i] *= 1 - pooled.scalars[i] * pooled.scalars[i] }
            dPooledInput = p.linearBackward(dz, input: c.pooledInput, encoder.poolerName, grads: &grads)!
        }
        let mean = config.customHead?.pooling == .mean
        let dHidden = mean ? Pooling.meanBackward(dPooledInput, offsets: batch.offsets, tokens: batch.tokenCount)
                           : Pooling.firstBackward(dPooledInput, offsets: batch.offsets, tokens: batch.tokenCount)
        encoder.backward(dHidden, cache: c.encoder, batch: batch, p, grads: &grads)
    }

    /// Inference logits (no dropout).
    public func logits(_ batch: PackedBatch) -> Tensor {
        var rng: SplitMix64? = nil
        return forward(batch, rng: &rng).0
    }

    /// The parameters that are trained (everything except constant buffers).
    public var trainableNames: [String] { parameters.names.filter { !encoder.buffers.contains($0) } }
}

/// Loads classifiers the way `AutoModelForSequenceClassification.from_pretrained` does.
public enum AutoModelForSequenceClassification {
    /// Loads from a folder or a cached Hub model id. `labels` replaces the config's labels (a new
    /// head is then initialised when the count differs); `head` asks for a custom head.
    public static func from(pretrained nameOrPath: String, labels: [String]? = nil, problemType: ProblemType? = nil,
                            head: ClassifierHeadConfig? = nil, seed: UInt64 = 42) throws -> SequenceClassifier {
        let folder = try resolveModelFolder(nameOrPath)
        var config = try ModelConfig(folder: folder)
        var checkpoint = try Checkpoint(folder: folder)
        if let labels {
            if labels.count != config.numLabels || (head != nil && head != config.customHead) {
                for name in checkpoint.names where name.hasPrefix("classifier.") || name.hasPrefix("pre_classifier.") {
                    checkpoint.tensors[name] = nil
                }
                checkpoint.names.removeAll { $0.hasPrefix("classifier.") || $0.hasPrefix("pre_classifier.") }
            }
            config.labels = labels
        }
        if let problemType { config.problemType = problemType }
        if let head { config.customHead = head }
        let encoder = try makeEncoder(config)
        if config.customHead?.pooling == .pooler && !encoder.hasPooler {
            throw CheckpointError.unsupportedModel("\(config.modelType) with pooler pooling (it has no pooler; use cls or mean)")
        }
        config.architectures = [config.modelType == "distilbert" ? "DistilBertForSequenceClassification" : "BertForSequenceClassification"]
        var rng = SplitMix64(seed: seed)
        let shapes = encoder.parameterShapes + SequenceClassifier.headShapes(config, encoder: encoder)
        let (parameters, report) = try ParameterLoader.load(checkpoint, shapes: shapes, prefix: encoder.prefix, buffers: encoder.buffers, rng: &rng)
        return SequenceClassifier(config: config, encoder: encoder, parameters: parameters, loadReport: report)
    }
}
