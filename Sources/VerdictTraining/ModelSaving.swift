import Foundation
import VerdictHub
import VerdictModels

/// Writes model folders in the layout `transformers` reads: `config.json`, `model.safetensors`
/// and the tokenizer files, always atomically (a temporary sibling folder renamed into place).
public enum ModelSaving {
    static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt"]

    /// Saves `model` (weights in `dtype`) with the tokenizer files of `tokenizerFolder` into `folder`.
    /// `extra` writes further files into the folder before it is renamed into place.
    public static func save(_ model: SequenceClassifier, tokenizerFolder: URL?, to folder: URL, dtype: DType = .float32,
                            extra: (URL) throws -> Void = { _ in }) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        try createDirectory(parent)
        let temporary = parent.appendingPathComponent(".tmp-\(folder.lastPathComponent)-\(getpid())")
        try? fm.removeItem(at: temporary)
        try createDirectory(temporary)
        try write(Data(model.config.serialized().utf8), to: temporary.appendingPathComponent("config.json"))
        try SafeTensorsFile.write(model.checkpointTensors, dtype: dtype,
                                  to: temporary.appendingPathComponent("model.safetensors"))
        if let tokenizerFolder {
            for f in tokenizerFiles where fm.fileExists(atPath: tokenizerFolder.appendingPathComponent(f).path) {
                try fm.copyItem(at: tokenizerFolder.appendingPathComponent(f), to: temporary.appendingPathComponent(f))
            }
        }
        try extra(temporary)
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
