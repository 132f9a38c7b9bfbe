import Foundation
import VerdictHub
import VerdictJSON
import VerdictTensor

/// What a classifier's outputs mean and which loss trains it (`problem_type` in `config.json`).
public enum ProblemType: String, Sendable {
    case singleLabelClassification = "single_label_classification"
    case multiLabelClassification = "multi_label_classification"
    case regression
}

/// A model's `config.json`: the fields every family shares, under each family's own key names
/// (DistilBERT's `dim`, GPT-2's `n_embd`, mBART's `d_model`, … are mapped onto the same
/// properties); family files read their own fields through `field(_:)`. Keys Verdict
/// does not use are kept and written back on save.
public struct ModelConfig: Sendable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: Activation
    public var maxPositionEmbeddings: Int
    /// 0 for DistilBERT, which has no token-type embeddings.
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var hiddenDropoutProb: Float
    public var attentionProbsDropoutProb: Float
    /// Dropout before the classifier (`classifier_dropout`, or `seq_classif_dropout` for DistilBERT).
    public var classifierDropout: Float
    /// `pad_token_id`, 0 when the config has none (see `hasPadTokenId`).
    public var padTokenId: Int
    /// Whether `pad_token_id` is set (decoders without one cannot batch, as in `transformers`).
    public var hasPadTokenId: Bool
    /// DistilBERT's fixed sinusoidal position embeddings.
    public var sinusoidalPositionEmbeddings: Bool
    /// Labels in id order (`id2label`); `LABEL_<i>` when the config has none.
    public var labels: [String]
    public var problemType: ProblemType?
    public var architectures: [String]
    /// The custom classification head, when the model has one (see `ClassifierHeadConfig`).
    public var customHead: ClassifierHeadConfig?
    /// Whether the weights are stored int8 in Verdict's layout (`quantization_config`, see
    /// `QuantizedLayout`); saving writes the key when set and drops it when not.
    public var isQuantized = false
    /// Members of the original file, in order, for a faithful `serialized()`.
    var original: [(String, JSONValue)]
    /// The file the config was read from, for messages.
    public internal(set) var file: String

    public var numLabels: Int { labels.count }

    /// The file name inside a model folder.
    public static let fileName = "config.json"

    /// Reads `config.json` from a model folder; a folder without one but with a single `*.gguf`
    /// file gets the config made from the GGUF metadata (`init(gguf:)`).
    public init(folder: URL) throws {
        let url = folder.appendingPathComponent(Self.fileName)
        if !FileManager.default.fileExists(atPath: url.path), let gguf = try GGUFFile.single(in: folder) {
            try self.init(gguf: gguf)
            return
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.unreadableFile(path: url.path, reason: fileErrorReason(error))
        }
        try self.init(data: data, file: url.path)
    }

    /// The config `transformers` makes of a llama.cpp GGUF file's metadata
    /// (`GGUFFile.huggingFaceConfig()`); `file` is the GGUF path, and `serialized()` gives the
    /// equivalent `config.json`.
    public init(gguf url: URL) throws {
        try self.init(gguf: try GGUFFile(url: url))
    }

    /// The config of an opened GGUF file.
    public init(gguf file: GGUFFile) throws {
        try self.init(data: Data(try file.huggingFaceConfig().serialized(indent: 2).utf8), file: file.path)
    }

    /// Parses `config.json` text.
    public init(data: Data, file: String = "config.json") throws {
        do {
            let root = try JSONNode.parse(data: data, file: file)
            _ = try root.object()
            try self.init(root)
        } catch let e as JSONError {
            throw Self.checkpointError(e)
        }
    }

    /// A JSON error in `config.json` as the checkpoint error callers handle.
    private static func checkpointError(_ e: JSONError) -> CheckpointError {
        switch e {
        case let .malformed(file, reason): return .malformed(file: file, reason: "not valid JSON: \(reason)")
        case let .invalidValue(file, path, expected): return .invalidConfig(file: file, path: path, expected: expected)
        }
    }

    private init(_ c: JSONNode) throws {
        original = try c.object().map { ($0.0, $0.1.value) }
        file = c.file
        modelType = try c.required("model_type").string()
        func float(_ key: String, _ d: Double) throws -> Float { Float(try c[key]?.double() ?? d) }
        func positive(_ key: String, _ d: Int?) throws -> Int { try c.modelSize(key, default: d) }
        func activation(_ key: String) throws -> Activation {
            let name = try c.string(key, default: "gelu")
            guard let a = Activation(configName: name) else { throw c[key]!.fail("one of gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, tanh, silu, swish") }
            return a
        }
        // The common settings under the family's own keys (its `ConfigAttributes`, transformers' attribute_map).
        let a = Self.attributes(of: modelType)
        func size(_ s: ConfigAttributes.Size) throws -> Int { try positive(s.key, s.defaultValue) }
        func value(_ v: ConfigAttributes.Value) throws -> Float { try v.key.map { try float($0, Double(v.defaultValue)) } ?? v.defaultValue }
        vocabSize = try size(a.vocabSize)
        hiddenSize = try size(a.hiddenSize)
        numHiddenLayers = try size(a.numHiddenLayers)
        numAttentionHeads = try size(a.numAttentionHeads)
        if let times = a.intermediateTimesHidden, c[a.intermediateSize.key]?.isNull ?? true {
            intermediateSize = times * hiddenSize
        } else {
            intermediateSize = try size(a.intermediateSize)
        }
        hiddenAct = try activation(a.hiddenAct)
        typeVocabSize = try a.typeVocabSize.map { try c.int($0.key, default: $0.defaultValue ?? 0) } ?? 0
        layerNormEps = try value(a.layerNormEps)
        hiddenDropoutProb = try value(a.hiddenDropout)
        attentionProbsDropoutProb = try value(a.attentionDropout)
        if a.classifierDropoutFollowsHidden, let key = a.classifierDropout.key {
            classifierDropout = try c[key].map { Float(try $0.double()) } ?? hiddenDropoutProb
        } else {
            classifierDropout = try value(a.classifierDropout)
        }
        sinusoidalPositionEmbeddings = try a.sinusoidalPositions.map { try c.bool($0, default: false) } ?? false
        maxPositionEmbeddings = try size(a.maxPositionEmbeddings)
        hasPadTokenId = !(c["pad_token_id"]?.isNull ?? true)
        padTokenId = hasPadTokenId ? try c.int("pad_token_id", default: 0) : 0
        guard (0...Int(Int32.max)).contains(padTokenId) else {
            throw JSONError.invalidValue(file: c.file, path: "$.pad_token_id", expected: "a token id (0 or more)")
        }
        guard hiddenSize % numAttentionHeads == 0 || c["head_dim"] != nil else {
            throw JSONError.invalidValue(file: c.file, path: "$", expected: "a hidden size (\(hiddenSize)) divisible by the number of attention heads (\(numAttentionHeads))")
        }
        if let id2label = c["id2label"] {
            var pairs: [(Int, String)] = []
            for (k, v) in try id2label.object() {
                guard let i = Int(k), i >= 0 else { throw id2label.fail("integer keys") }
                pairs.append((i, try v.string()))
            }
            pairs.sort { $0.0 < $1.0 }
            guard pairs.map(\.0) == Array(0..<pairs.count) else { throw id2label.fail("ids 0..<\(pairs.count) without gaps") }
            labels = pairs.map(\.1)
        } else {
            labels = (0..<(try positive("num_labels", 2))).map { "LABEL_\($0)" }
        }
        if let p = try c.optionalString("problem_type") {
            guard let pt = ProblemType(rawValue: p) else { throw c["problem_type"]!.fail("single_label_classification, multi_label_classification or regression") }
            problemType = pt
        }
        architectures = try c["architectures"]?.array().map { try $0.string() } ?? []
        customHead = try c["verdict_classifier_head"].map { try ClassifierHeadConfig($0) }
        if let q = c["quantization_config"], !q.isNull {
            let method = try q.required("quant_method")
            guard try method.string() == QuantizedLayout.method else {
                throw method.fail("\"\(QuantizedLayout.method)\" (Verdict reads its own int8 checkpoints, from `verdict quantize`; "
                                  + "load the unquantised model and pass --dtype int8 instead)")
            }
            isQuantized = true
        }
    }

    /// Upper bounds of the size keys: generous for any real model, small enough that a broken
    /// `config.json` fails here instead of in an allocation.
    static let sizeLimits = ["num_hidden_layers": 4096, "n_layer": 4096, "encoder_layers": 4096, "decoder_layers": 4096,
                             "num_attention_heads": 4096, "n_head": 4096, "encoder_attention_heads": 4096, "decoder_attention_heads": 4096]
    static let defaultSizeLimit = 1 << 24

    /// A plain BERT config (used by tests and when building a model from scratch).
    public init(modelType: String = "bert", vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                intermediateSize: Int, maxPositionEmbeddings: Int = 512, labels: [String] = ["LABEL_0", "LABEL_1"]) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        hiddenAct = .gelu
        self.maxPositionEmbeddings = maxPositionEmbeddings
        typeVocabSize = modelType == "distilbert" ? 0 : 2
        layerNormEps = 1e-12
        hiddenDropoutProb = 0.1
        attentionProbsDropoutProb = 0.1
        classifierDropout = modelType == "distilbert" ? 0.2 : 0.1
        padTokenId = 0
        hasPadTokenId = true
        sinusoidalPositionEmbeddings = false
        self.labels = labels
        architectures = []
        original = [("model_type", .string(modelType))]
        file = "config.json"
    }

    /// Reads a field only some families have (`embedding_size`, `relative_attention_num_buckets`,
    /// …) from the config's JSON root; a wrong type becomes an error naming the file and key.
    public func field<T>(_ read: (JSONNode) throws -> T) throws -> T {
        do { return try read(JSONNode(value: .object(original), file: file)) } catch let e as JSONError { throw Self.checkpointError(e) }
    }

    /// Sets `pad_token_id` (also in the saved file), as `model.config.pad_token_id = …` does.
    public mutating func setPadTokenId(_ id: Int) {
        padTokenId = id
        hasPadTokenId = true
        if let i = original.firstIndex(where: { $0.0 == "pad_token_id" }) { original[i].1 = .int(id) } else { original.append(("pad_token_id", .int(id))) }
    }

    /// The id of a label name (`label2id`).
    public func id(ofLabel label: String) -> Int? { labels.firstIndex(of: label) }

    /// The `config.json` text: the original members with labels, problem type, architectures
    /// and head updated, in the original order (new keys at the end).
    public func serialized() -> String {
        var members = original
        func set(_ key: String, _ value: JSONValue?) {
            if let i = members.firstIndex(where: { $0.0 == key }) {
                if let value { members[i].1 = value } else { members.remove(at: i) }
            } else if let value { members.append((key, value)) }
        }
        set("architectures", .array(architectures.map { .string($0) }))
        set("id2label", .object(labels.enumerated().map { (String($0.offset), .string($0.element)) }))
        set("label2id", .object(labels.enumerated().map { ($0.element, .int($0.offset)) }))
        set("problem_type", problemType.map { .string($0.rawValue) })
        set("verdict_classifier_head", customHead?.json)
        set("quantization_config", isQuantized ? QuantizedLayout.config : nil)
        if modelType != "distilbert" { set("num_labels", nil) }
        return JSONValue.object(members).serialized(indent: 2) + "\n"
    }
}

/// The tutorials' custom head: pooling, then Linear → activation → Dropout → Linear.
/// Stored in `config.json` under `verdict_classifier_head` so a checkpoint reloads with it.
public struct ClassifierHeadConfig: Sendable, Equatable {
    /// Which vector of the encoder output feeds the head.
    public enum Pooling: String, Sendable { case cls, mean, pooler }
    public var pooling: Pooling
    public var hiddenWidth: Int
    public var dropout: Float

    public init(pooling: Pooling, hiddenWidth: Int, dropout: Float = 0.1) {
        self.pooling = pooling; self.hiddenWidth = hiddenWidth; self.dropout = dropout
    }

    init(_ n: JSONNode) throws {
        let poolingNode = try n.required("pooling")
        guard let p = Pooling(rawValue: try poolingNode.string()) else { throw poolingNode.fail("cls, mean or pooler") }
        pooling = p
        let widthNode = try n.required("hidden_width")
        hiddenWidth = try widthNode.int()
        // The head's weights are allocated from it: a size beyond any real model is a broken file.
        guard hiddenWidth > 0, hiddenWidth <= ModelConfig.defaultSizeLimit else { throw widthNode.fail("a positive integer of a real model's size") }
        dropout = Float(try n["dropout"]?.double() ?? 0.1)
    }

    var json: JSONValue {
        .object([("pooling", .string(pooling.rawValue)), ("hidden_width", .int(hiddenWidth)), ("dropout", .double(Double(dropout)))])
    }
}

extension JSONNode {
    /// A size of the model at `key` (`default` when the key is missing; nil: it is required): a
    /// positive integer no larger than a real model's (`ModelConfig.sizeLimits`, else 2²⁴), so a
    /// broken file is an error naming the key instead of a model to allocate. Every family reads
    /// its sizes with it.
    func modelSize(_ key: String, default d: Int?) throws -> Int {
        guard let v = try self[key]?.int() ?? d else { throw JSONError.invalidValue(file: file, path: path + "." + key, expected: "an integer (the key is missing)") }
        guard v > 0 else { throw JSONError.invalidValue(file: file, path: path + "." + key, expected: "a positive integer") }
        let limit = ModelConfig.sizeLimits[key] ?? ModelConfig.defaultSizeLimit
        guard v <= limit else { throw JSONError.invalidValue(file: file, path: path + "." + key, expected: "at most \(limit) (got \(v))") }
        return v
    }
}
