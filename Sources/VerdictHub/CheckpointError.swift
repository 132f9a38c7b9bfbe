import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors raised while reading or writing checkpoints (weights and `config.json`).
///
/// Checkpoint files are treated as hostile: every size and offset is checked before use, and
/// each error names the file and what was wrong.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read or written.
    case unreadableFile(path: String, reason: String)
    /// The file's structure is invalid (bad header, offset out of range, …).
    case malformed(file: String, reason: String)
    /// The pickle inside a `pytorch_model.bin` uses something a torch state dict never needs.
    case disallowedPickle(file: String, reason: String)
    /// `config.json` has a missing or wrongly typed field.
    case invalidConfig(file: String, path: String, expected: String)
    /// The folder has no weights file Verdict reads.
    case noWeights(folder: String)
    /// A tensor the model needs is absent or has the wrong shape.
    case tensorMismatch(name: String, reason: String)
    /// The model (its `model_type`, or a combination of options) is not one Verdict implements.
    case unsupportedModel(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "cannot read \(path): \(reason)"
        case let .malformed(file, reason): return "\(file): \(reason)"
        case let .disallowedPickle(file, reason): return "\(file): refusing to load: \(reason)"
        case let .invalidConfig(file, path, expected): return "\(file): \(path): expected \(expected)"
        case let .noWeights(folder): return "\(folder) holds no model.safetensors, model.safetensors.index.json, pytorch_model.bin or .gguf file"
        case let .tensorMismatch(name, reason): return "tensor \(name): \(reason)"
        case let .unsupportedModel(what): return "not supported: \(what)"
        }
    }
}

/// Memory-maps a checkpoint file, reporting failure as a `CheckpointError`.
func mappedFile(_ url: URL) throws -> Data {
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw CheckpointError.unreadableFile(path: url.path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw CheckpointError.unreadableFile(path: url.path, reason: String(cString: strerror(errno))) }
    let size = Int(info.st_size)
    guard size > 0 else { return Data() }
    // Read-only and private: pages come from the file and can be dropped again (`releasePages`).
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
        throw CheckpointError.unreadableFile(path: url.path, reason: "cannot map: " + String(cString: strerror(errno)))
    }
    return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
}

/// Tells the kernel that the whole pages inside `range` of a `mappedFile` are not needed now:
/// they leave the process's resident memory and are read from the file again if touched. For
/// loaders that copy a tensor out of the mapping, so the mapping and the copies never both
/// occupy memory.
func releasePages(of file: Data, _ range: Range<Int>) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    file.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        let start = (Int(bitPattern: base) + range.lowerBound + page - 1) / page * page
        let end = (Int(bitPattern: base) + range.upperBound) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Int32(MADV_DONTNEED)) }
    }
}
