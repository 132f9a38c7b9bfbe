import VerdictTensor

/// A sequence-classification head: pool each sequence's hidden states into one vector, then run a
/// short list of steps. Every family's head is such a list, e.g.
///
/// - BERT: `[CLS]` → pooler `Linear` → tanh → Dropout → `classifier`
/// - RoBERTa, MPNet: `<s>` → Dropout → `classifier.dense` → tanh → Dropout → `classifier.out_proj`
/// - ModernBERT: `[CLS]` or mean → `head.dense` → act → `head.norm` → Dropout → `classifier`
/// - GPT-2, LLaMA: last non-padding token → `score`
/// - mBART: the decoder's state at the last `</s>` → Dropout → `dense` → tanh → Dropout → `out_proj`
///
/// Forward records each step's input; backward walks the steps in reverse.
public struct ClassificationHead: Sendable {
    enum PoolingKind: Equatable {
        case first, mean
        /// The rightmost token that is not `pad_token_id` (decoders, as `transformers` picks it:
        /// the first token when all are padding). Without a padding id, the last token, and a
        /// batch must hold one sequence.
        case lastNonPadding(Int32?)
        /// The last occurrence of a token (mBART: `eos_token_id`); every sequence of a batch must
        /// hold the same number of them.
        case lastOccurrence(Int32)
    }

    enum Step {
        case linear(String, inputs: Int, outputs: Int, bias: Bool = true)
        case activation(Activation)
        case norm(String, width: Int, eps: Float, bias: Bool = true)
        case dropout(Float)
    }

    var pooling: PoolingKind
    var steps: [Step]

    struct Cache {
        /// The pooled rows (`nil`: mean).
        var rows: [Int]?
        /// Rows of the hidden states pooled from (every token, or one per sequence when the
        /// encoder computed only the pooled rows).
        var hiddenRows: Int
        var inputs: [Tensor]
        var norms: [Ops.NormCache?]
        var drops: [[Float]?]
    }

    /// The row each sequence is pooled from; `nil` for mean pooling.
    func pooledRows(_ batch: PackedBatch) throws(ModelInputError) -> [Int]? {
        let offsets = batch.offsets, ids = batch.inputIds, sequences = 0..<batch.sequenceCount
        switch pooling {
        case .mean: return nil
        case .first: return Pooling.firstRows(offsets)
        case .lastNonPadding(nil):
            guard batch.sequenceCount <= 1 else { throw .noPaddingToken }
            return sequences.map { offsets[$0 + 1] - 1 }
        case .lastNonPadding(let pad?):
            return sequences.map { s in
                (offsets[s]..<offsets[s + 1]).last { ids[$0] != pad } ?? (offsets[s + 1] > offsets[s] ? offsets[s] : -1)
            }
        case .lastOccurrence(let id):
            let found = sequences.map { s in (offsets[s]..<offsets[s + 1]).filter { ids[$0] == id } }
            guard Set(found.map(\.count)).count <= 1 else { throw .unequalEndOfSequenceCounts }
            if let first = found.first, first.isEmpty { throw .noEndOfSequence(Int(id)) }
            return found.map { $0.last ?? -1 }
        }
    }

    /// `rows`: `pooledRows(batch)`, which the caller checks before running the backbone.
    func forward(_ hidden: Tensor, rows: [Int]?, batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?) -> (Tensor, Cache) {
        var x = rows.map { Pooling.rows(hidden, at: $0) } ?? Pooling.mean(hidden, offsets: batch.offsets)
        var cache = Cache(rows: rows, hiddenRows: hidden.shape[0], inputs: [], norms: [], drops: [])
        for step in steps {
            cache.inputs.append(x)
            var norm: Ops.NormCache? = nil, drop: [Float]? = nil
            switch step {
            case let .linear(name, _, _, _): x = p.linear(x, name)
            case let .activation(a): x = Ops.activate(x, a)
            case let .norm(name, _, eps, _): (x, norm) = p.layerNorm(x, name, eps: eps)
            case let .dropout(rate):
                drop = Dropout.mask(count: x.count, p: rate, rng: &rng)
                Dropout.apply(&x, drop)
            }
            cache.norms.append(norm)
            cache.drops.append(drop)
        }
        return (x, cache)
    }

    /// Accumulates the head's parameter gradients; returns the gradient of the hidden states.
    func backward(_ dOutput: Tensor, cache c: Cache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        var dx = dOutput
        for (i, step) in steps.enumerated().reversed() {
            switch step {
            case let .linear(name, _, _, _): dx = p.linearBackward(dx, input: c.inputs[i], name, grads: &grads)
            case let .activation(a): dx = Ops.activationBackward(dx, input: c.inputs[i], a)
            case let .norm(name, _, _, _): dx = p.layerNormBackward(dx, input: c.inputs[i], cache: c.norms[i]!, name, grads: &grads)
            case .dropout: Dropout.apply(&dx, c.drops[i])
            }
        }
        guard let rows = c.rows else { return Pooling.meanBackward(dx, offsets: batch.offsets, tokens: c.hiddenRows) }
        return Pooling.rowsBackward(dx, at: rows, tokens: c.hiddenRows)
    }

    /// (name, shape) of every parameter the steps use.
    var shapes: [(String, [Int])] {
        steps.flatMap { step -> [(String, [Int])] in
            switch step {
            case let .linear(name, inputs, outputs, bias):
                return [(name + ".weight", [outputs, inputs])] + (bias ? [(name + ".bias", [outputs])] : [])
            case let .norm(name, width, _, bias):
                return [(name + ".weight", [width])] + (bias ? [(name + ".bias", [width])] : [])
            case .activation, .dropout: return []
            }
        }
    }

    /// The head in one line: `[CLS] → pooler.dense → tanh → dropout 0.1 → classifier`.
    public var summary: String {
        ([poolingSummary] + steps.map { step -> String in
            switch step {
            case let .linear(name, _, _, _): return name
            case let .activation(a): return a.rawValue
            case let .norm(name, _, _, _): return name
            case let .dropout(p): return String(format: "dropout %g", p)
            }
        }).joined(separator: " → ")
    }

    private var poolingSummary: String {
        switch pooling {
        case .first: return "first token"
        case .mean: return "mean"
        case .lastNonPadding(let pad?): return "last token that is not padding (id \(pad))"
        case .lastNonPadding(nil): return "last token (no padding id: one sequence per batch)"
        case .lastOccurrence(let id): return "last token \(id)"
        }
    }

    /// `Linear` → ReLU → Dropout → `Linear`: DistilBERT's head and Verdict's custom head.
    static func mlp(hidden: String, out: String, inputs: Int, width: Int, labels: Int, dropout: Float) -> [Step] {
        [.linear(hidden, inputs: inputs, outputs: width), .activation(.relu), .dropout(dropout), .linear(out, inputs: width, outputs: labels)]
    }

    /// Dropout → `dense` → activation → Dropout → `out_proj`: the RoBERTa-style head (RoBERTa,
    /// XLM-R, CamemBERT, MPNet, Longformer with tanh; ELECTRA with GELU).
    static func denseOutProj(prefix: String = "classifier", hidden: Int, labels: Int, activation: Activation, dropout: Float) -> ClassificationHead {
        ClassificationHead(pooling: .first, steps: [
            .dropout(dropout), .linear(prefix + ".dense", inputs: hidden, outputs: hidden), .activation(activation),
            .dropout(dropout), .linear(prefix + ".out_proj", inputs: hidden, outputs: labels),
        ])
    }

    /// Pooler (`Linear` + tanh over the first token) → Dropout → `classifier`: BERT and ALBERT.
    static func pooler(_ pooler: String, hidden: Int, labels: Int, dropout: Float) -> ClassificationHead {
        ClassificationHead(pooling: .first, steps: [
            .linear(pooler, inputs: hidden, outputs: hidden), .activation(.tanh), .dropout(dropout),
            .linear("classifier", inputs: hidden, outputs: labels),
        ])
    }
}
