import Foundation
import VerdictHub
import VerdictModels
import VerdictTensor

/// Writes model folders in the layout `transformers` reads: `config.json`, `model.safetensors`
/// and the tokenizer files, always atomically (a temporary sibling folder renamed into place).
public enum ModelSaving {
    static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt"]

    /// Saves `model` (weights in `dtype`) with the tokenizer files of `tokenizerFolder` into `folder`.
    /// `extra` writes further files into the folder before it is renamed into place.
    public static func save(_ model: SequenceClassifier, tokenizerFolder: URL?, to folder: URL, dtype: DType = .float32,
                            extra: (URL) throws -> Void = { _ in }) throws {
        try writeFolder(folder, tokenizerFolder: tokenizerFolder) { temporary in
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
    public static func saveQuantized(_ model: SequenceClassifier, tokenizerFolder: URL?, to folder: URL, denseDType: DType = .float32) throws {
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
        try writeFolder(folder, tokenizerFolder: tokenizerFolder) { temporary in
            try write(Data(config.serialized().utf8), to: temporary.appendingPathComponent("config.json"))
            try SafeTensorsFile.write(stored: stored, metadata: ["format": "pt", "quantization": QuantizedLayout.method],
                                      to: temporary.appendingPathComponent("model.safetensors"))
        }
    }

    /// Builds a model folder in a temporary sibling (`contents` writes config and weights, the
    /// tokenizer files are copied), then renames it into place, replacing any old folder.
    private static func writeFolder(_ folder: URL, tokenizerFolder: URL?, contents: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try createDirectory(parent)
        let temporary = parent.appendingPathComponent(".tmp-\(folder.lastPathComponent)-\(getpid())")
        try? fm.removeItem(at: temporary)
        try createDirectory(temporary)
        try contents(temporary)
        if let tokenizerFolder {
            for f in tokenizerFiles where fm.fileExists(atPath: tokenizerFolder.appendingPathComponent(f).path) {
                try fm.copyItem(at: tokenizerFolder.appendingPathComponent(f), to: temporary.appendingPathComponent(f))
            }
        }
        // Replace atomically: move any old folder aside, rename the new one in, then delete the old.
        let old = parent.appendingPathComponent(".old-\(folder.lastPathComponent)-\(getpid())")
        if fm.fileExists(atPath: folder.path) { try? fm.removeItem(at: old); try move(folder, old) }
        try move(temporary, folder)
        try? fm.removeItem(at: old)
    }

    static func createDirectory(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw CheckpointError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }

    static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch { throw CheckpointError.unreadableFile(path: url.path, reason: error.localizedDescription) }
    }

    static func move(_ from: URL, _ to: URL) throws {
        guard rename(from.path, to.path) == 0 else {
            throw CheckpointError.unreadableFile(path: to.path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}
