import Foundation
import VerdictHub
import VerdictTensor
import VerdictTokenizers

/// What every loaded model has, with a head or without (`SequenceClassifier`, `TransformerModel`):
/// its config, its family's encoder and its parameters — and so the steps that only need those:
/// readying the weights for inference and checking a tokenizer against the embedding table.
public protocol PretrainedModel: AnyObject, Sendable {
    var config: ModelConfig { get }
    var encoder: any Backbone { get }
    var parameters: ParameterStore { get set }
}

extension PretrainedModel {
    /// Readies the model for predictions only: every `Linear` weight of the backbone is packed for
    /// the matrix multiply and its dense copy released as it is packed (half the weight memory, and
    /// never both copies at once; the head's few weights are packed on first use). Reading or
    /// changing a weight afterwards still works (it is unpacked exactly), so the model can still be
    /// saved or trained. With `.int8` every `Linear` layer (the head's too) is quantised instead
    /// (dynamic quantisation, `InferencePrecision`); reading a weight then gives its dequantised value.
    /// With `.bfloat16` it gives the rounded value. Either way that value is what the model keeps, even
    /// after preparing it again in another precision: load the checkpoint again for the original weights.
    /// `nil` keeps the model's own precision (`ParameterStore.defaultInferencePrecision`): int8 for
    /// a checkpoint from `verdict quantize`, bfloat16 for one stored entirely in bfloat16 (the same
    /// values at half the packed memory), else float32.
    public func prepareForInference(precision: InferencePrecision? = nil) {
        let precision = precision ?? parameters.defaultInferencePrecision
        var probe = parameters
        probe.linearNames = LinearNameRecorder()
        var rng: SplitMix64? = nil
        _ = encoder.forward(PackedBatch(sequences: [[0]]), probe, rng: &rng, keepCache: false)
        let names = probe.linearNames?.names ?? []
        probe = ParameterStore()   // its references would keep the dense copies alive
        parameters.packReleasingDenseCopies(names, precision: precision)
    }

    /// The tensors to save, under the names and in the layouts `transformers` reads (Conv1D
    /// weights transposed back to `[in, out]`).
    public var checkpointTensors: [(String, Tensor)] {
        let transposed = encoder.transposedWeights
        return parameters.names.map { ($0, transposed.contains($0) ? parameters[$0].transposed() : parameters[$0]) }
    }

    /// Checks that every id `tokenizer` can produce has a row in the model's embedding table (a
    /// tokenizer paired with another model's checkpoint is a common mistake); `folder` names the
    /// files in the error.
    public func checkCompatible(with tokenizer: Tokenizer, folder: URL? = nil) throws {
        let rows = parameters[encoder.stack.embeddings.word].shape[0]
        guard let largest = tokenizer.largestId, largest >= rows else { return }
        let where_ = folder.map { " in \($0.path)" } ?? ""
        throw CheckpointError.tensorMismatch(name: encoder.stack.embeddings.word,
                                             reason: "the tokenizer\(where_) produces ids up to \(largest), but the model's embedding table "
                                                 + "(config.json vocab_size \(config.vocabSize)) has \(rows) rows: the tokenizer does not belong to this model")
    }
}
