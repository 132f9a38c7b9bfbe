import VerdictTensor

/// A sequence-classification head: pool each sequence's hidden states into one vector, then run a
/// short list of steps. Every family's head is such a list, e.g.
///
/// - BERT: `[CLS]` → pooler `Linear` → tanh → Dropout → `classifier`
/// - RoBERTa, MPNet: `<s>` → Dropout → `classifier.dense` → tanh → Dropout → `classifier.out_proj`
/// - ModernBERT: `[CLS]` or mean → `head.dense` → act → `head.norm` → Dropout → `classifier`
///
/// Forward records each step's input; backward walks the steps in reverse.
public struct ClassificationHead: Sendable {
    enum PoolingKind { case first, mean }

    enum Step {
        case linear(String, inputs: Int, outputs: Int, bias: Bool = true)
        case activation(Activation)
        case norm(String, width: Int, eps: Float, bias: Bool = true)
        case dropout(Float)
    }

    var pooling: PoolingKind
    var steps: [Step]

    struct Cache {
        var inputs: [Tensor]
        var norms: [Ops.LayerNormCache?]
        var drops: [[Float]?]
    }

    func forward(_ hidden: Tensor, offsets: [Int], _ p: ParameterStore, rng: inout SplitMix64?) -> (Tensor, Cache) {
        var x = pooling == .mean ? Pooling.mean(hidden, offsets: offsets) : Pooling.first(hidden, offsets: offsets)
        var cache = Cache(inputs: [], norms: [], drops: [])
        for step in steps {
            cache.inputs.append(x)
            var norm: Ops.LayerNormCache? = nil, drop: [Float]? = nil
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
    func backward(_ dOutput: Tensor, cache c: Cache, offsets: [Int], tokens: Int, _ p: ParameterStore,
                  grads: inout ParameterStore) -> Tensor {
        var dx = dOutput
        for (i, step) in steps.enumerated().reversed() {
            switch step {
            case let .linear(name, _, _, _): dx = p.linearBackward(dx, input: c.inputs[i], name, grads: &grads)!
            case let .activation(a): dx = Ops.activationBackward(dx, input: c.inputs[i], a)
            case let .norm(name, _, _, _): dx = p.layerNormBackward(dx, input: c.inputs[i], cache: c.norms[i]!, name, grads: &grads)
            case .dropout: Dropout.apply(&dx, c.drops[i])
            }
        }
        return pooling == .mean ? Pooling.meanBackward(dx, offsets: offsets, tokens: tokens)
                                : Pooling.firstBackward(dx, offsets: offsets, tokens: tokens)
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
        ([pooling == .mean ? "mean" : "first token"] + steps.map { step -> String in
            switch step {
            case let .linear(name, _, _, _): return name
            case let .activation(a): return a.rawValue
            case let .norm(name, _, _, _): return name
            case let .dropout(p): return String(format: "dropout %g", p)
            }
        }).joined(separator: " → ")
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
