import Foundation
import VerdictHub
import VerdictJSON
import VerdictModels
import VerdictTensor

/// Writes model folders in the layout `transformers` reads: `config.json`, `model.safetensors`
/// and the tokenizer files, always atomically (a temporary sibling folder renamed into place).
public enum ModelSaving {
    static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt"]

    /// Saves `model` (weights in `dtype`) with the tokenizer files of `tokenizerFolder` into `folder`.
    /// `extra` writes further files into the folder before it is renamed into place.
    /// `copying` names further files of `tokenizerFolder` to copy (`sentenceTransformersFiles`).
    public static func save(_ model: some PretrainedModel, tokenizerFolder: URL?, to folder: URL, dtype: DType = .float32,
                            copying: [String] = [], extra: (URL) throws -> Void = { _ in }) throws {
        try writeFolder(folder, tokenizerFolder: tokenizerFolder, copying: copying) { temporary in
            // The weights are written dense (an int8 model's dequantised), so the config says so.
            var config = model.config
            config.isQuantized = false
            try write(Data(config.serialized().utf8), to: temporary.appendingPathComponent("config.json"))
            try SafeTensorsFile.write(model.checkpointTensors, dtype: dtype, to: temporary.appendingPathComponent("model.safetensors"))
            try extra(temporary)
        }
    }

    /// Saves `model` in Verdict's int8 layout (`QuantizedLayout`): every `Linear` weight the int8
    /// path has quantised is written as `I8` plus its `_scale`, everything else (embeddings, norms,
    /// biases) as `denseDType` (the source checkpoint's float type keeps the file small), and
    /// `config.json` gets `quantization_config`. Readies the model for int8 first
    /// (`prepareForInference(precision: .int8)`). The head's few weights stay `F32` and are
    /// quantised on first use after loading, exactly as they are without a saved checkpoint, so
    /// the loaded model gives the same scores as `--dtype int8` on the original.
    /// `copying` names further files of `tokenizerFolder` to copy (`sentenceTransformersFiles`).
    public static func saveQuantized(_ model: some PretrainedModel, tokenizerFolder: URL?, to folder: URL, denseDType: DType = .float32,
                                     copying: [String] = []) throws {
        model.prepareForInference(precision: .int8)
        let transposed = model.encoder.transposedWeights
        var stored: [SafeTensorsFile.StoredTensor] = []
        for name in model.parameters.names {
            if let m = model.parameters.quantizedWeight(name) {
                stored.append(.init(name: name, dtype: .int8, shape: [m.columns, m.depth], bytes: m.quantizedWeight().withUnsafeBytes { Data($0) }))
                stored.append(.init(name: name + QuantizedLayout.scaleSuffix, Tensor(shape: [m.columns], scalars: Array(m.scales.prefix(m.columns))), dtype: .float32))
            } else {
                let t = model.parameters[name]
                stored.append(.init(name: name, transposed.contains(name) ? t.transposed() : t, dtype: denseDType))
            }
        }
        var config = model.config
        config.isQuantized = true
        try writeFolder(folder, tokenizerFolder: tokenizerFolder, copying: copying) { temporary in
            try write(Data(config.serialized().utf8), to: temporary.appendingPathComponent("config.json"))
            try SafeTensorsFile.write(stored: stored, metadata: ["format": "pt", "quantization": QuantizedLayout.method],
                                      to: temporary.appendingPathComponent("model.safetensors"))
        }
    }

    /// Builds a model folder through `OutputFolder` (a hidden sibling renamed into place; an
    /// existing folder is replaced only when it is Verdict's own model output): `contents` writes
    /// config and weights, the tokenizer files and `copying` (paths relative to
    /// `tokenizerFolder`, files or folders) are copied.
    private static func writeFolder(_ folder: URL, tokenizerFolder: URL?, copying: [String] = [], contents: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let output = try OutputFolder.prepare(folder.path, kind: .model)
        try output.write { temporary in
            try contents(temporary)
            guard let tokenizerFolder else { return }
            for f in tokenizerFiles + copying where fm.fileExists(atPath: tokenizerFolder.appendingPathComponent(f).path) {
                let target = temporary.appendingPathComponent(f)
                do {
                    try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try fm.copyItem(at: tokenizerFolder.appendingPathComponent(f), to: target)
                } catch { throw CheckpointError.unreadableFile(path: target.path, reason: fileErrorReason(error)) }
            }
        }
    }

    /// The files that make `folder` a sentence-transformers model besides the transformer's own
    /// (`modules.json`, its configs and every module folder it lists but the transformer's), to
    /// copy into a converted folder so that it stays a sentence-transformers model.
    public static func sentenceTransformersFiles(in folder: URL) -> [String] {
        let fm = FileManager.default
        guard let data = fm.contents(atPath: folder.appendingPathComponent("modules.json").path) else { return [] }
        var files = ["modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "README.md"]
        if let modules = try? JSONNode.parse(data: data, file: "modules.json").array() {
            for module in modules {
                if let path = try? module.required("path").string(), !path.isEmpty, !path.contains(".."), !path.hasPrefix("/") { files.append(path) }
            }
        }
        return files.filter { fm.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }

    static func createDirectory(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw CheckpointError.unreadableFile(path: url.path, reason: fileErrorReason(error))
        }
    }

    static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch { throw CheckpointError.unreadableFile(path: url.path, reason: fileErrorReason(error)) }
    }

    static func move(_ from: URL, _ to: URL) throws {
        guard rename(from.path, to.path) == 0 else {
            throw CheckpointError.unreadableFile(path: to.path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}
