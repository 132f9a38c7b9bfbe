import Foundation
import VerdictJSON
import VerdictTensor

/// The weights of a model folder, by checkpoint name (`bert.encoder.layer.0.attention.self.query.weight`).
///
/// Reads, in order of preference, `model.safetensors`, sharded `model.safetensors.index.json`,
/// `pytorch_model.bin`, sharded `pytorch_model.bin.index.json`, or else the folder's one `*.gguf`
/// file (llama.cpp; see `init(gguf:)`). Float16 and bfloat16 weights are widened to `Float`.
public struct Checkpoint {
    /// Tensors by name.
    public var tensors: [String: Tensor]
    /// Names in file order.
    public var names: [String]
    /// The files read.
    public var files: [URL]
    /// Stored element type of the first floating-point tensor (what `save` reproduces by default).
    public var storedDType: DType
    /// Stored element type of each tensor whose file says it (safetensors, GGUF; not pickles).
    public var storedDTypes: [String: DType] = [:]
    /// The int8 weights of a checkpoint in Verdict's quantised layout (`QuantizedLayout`), packed
    /// for the int8 multiply; their names are in `names`, not in `tensors`.
    package var quantizedWeights: [String: QuantizedMatrix] = [:]

    /// No weights: a model loaded from it initialises every parameter afresh
    /// (`AutoModelForSequenceClassification.from(config:)`).
    public static var empty: Checkpoint { Checkpoint(tensors: [:], names: [], files: [], storedDType: .float32) }

    private init(tensors: [String: Tensor], names: [String], files: [URL], storedDType: DType) {
        (self.tensors, self.names, self.files, self.storedDType) = (tensors, names, files, storedDType)
    }

    /// Loads every tensor of the folder's weights.
    public init(folder: URL) throws {
        let fm = FileManager.default
        func exists(_ name: String) -> URL? {
            let u = folder.appendingPathComponent(name)
            return fm.fileExists(atPath: u.path) ? u : nil
        }
        tensors = [:]
        names = []
        files = []
        storedDType = .float32
        if let u = exists("model.safetensors") {
            try addSafeTensors(u)
        } else if let index = exists("model.safetensors.index.json") {
            for file in try Self.shards(index) { try addSafeTensors(folder.appendingPathComponent(file)) }
        } else if let u = exists("pytorch_model.bin") {
            try addTorch(u)
        } else if let index = exists("pytorch_model.bin.index.json") {
            for file in try Self.shards(index) { try addTorch(folder.appendingPathComponent(file)) }
        } else if let gguf = try GGUFFile.single(in: folder) {
            try addGGUF(gguf)
        } else {
            throw CheckpointError.noWeights(folder: folder.path)
        }
    }

    /// Loads a llama.cpp GGUF file (architectures `llama`, `qwen2`, `qwen3`) the way `transformers`
    /// does (`from_pretrained(..., gguf_file=...)`): every tensor dequantized to `Float`, under its
    /// `transformers` name and layout (`GGUFConversion`). `storedDType` is the first tensor's type
    /// when that is F32/F16/BF16, else float32 (quantized types are not written back).
    public init(gguf url: URL) throws {
        tensors = [:]
        names = []
        files = []
        storedDType = .float32
        try addGGUF(url)
    }

    /// Shard file names of an index, in first-use order; each must be a plain file name.
    static func shards(_ url: URL) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw CheckpointError.unreadableFile(path: url.path, reason: fileErrorReason(error)) }
        do {
            let map = try JSONNode.parse(data: data, file: url.path).required("weight_map")
            var seen: [String] = []
            for (_, v) in try map.object() {
                let f = try v.string()
                guard !f.contains("/"), !f.hasPrefix(".") else { throw v.fail("a file name in the same folder") }
                if !seen.contains(f) { seen.append(f) }
            }
            return seen
        } catch let e as JSONError {
            throw CheckpointError.malformed(file: url.path, reason: e.description)
        }
    }

    private mutating func addSafeTensors(_ url: URL) throws {
        let file = try SafeTensorsFile(url: url)
        for name in file.names {
            if name.hasSuffix(QuantizedLayout.scaleSuffix), file.isQuantizedWeight(String(name.dropLast(QuantizedLayout.scaleSuffix.count))) { continue }
            if file.isQuantizedWeight(name) {
                if tensors[name] == nil && quantizedWeights[name] == nil { names.append(name) }
                quantizedWeights[name] = try file.quantizedMatrix(name)
                continue
            }
            try add(name, file.tensor(name), dtype: file.dtype(of: name))
        }
        files.append(url)
    }

    private mutating func addGGUF(_ url: URL) throws {
        let file = try GGUFFile(url: url)
        for info in file.tensors {
            let (name, t) = try file.huggingFaceTensor(info)
            guard tensors[name] == nil else { throw CheckpointError.malformed(file: url.path, reason: "two tensors map to \(name)") }
            try add(name, t, dtype: info.type.plainFloatDType ?? .float32)
        }
        files.append(url)
    }

    private mutating func addTorch(_ url: URL) throws {
        let file = try TorchCheckpoint(url: url)
        for name in file.names { try add(name, file.tensor(name), dtype: nil) }
        files.append(url)
    }

    private mutating func add(_ name: String, _ t: Tensor, dtype: DType?) throws {
        if tensors[name] == nil { names.append(name) }
        if names.count == 1, let dtype { storedDType = dtype }
        storedDTypes[name] = dtype
        tensors[name] = t
    }
}
