import Foundation
import VerdictJSON

/// Where Verdict writes a folder of results (a model from `quantize` or `train`, a training run, an
/// evaluation report): a new folder, an empty one, or Verdict's own earlier output of the same kind,
/// never a folder holding anything Verdict did not write, and never one that is or contains an
/// input. `prepare` checks all of that before any long work starts; `write` builds the new contents
/// in a hidden sibling and renames it into place, so a run that fails or is killed leaves the old
/// output as it was.
///
/// Verdict's own output is recognised by the marker it writes into every folder
/// (`.verdict-output.json`: the kind and the files written), or, for folders written before there
/// was a marker, by holding nothing but the files that kind of output consists of.
public struct OutputFolder: Sendable {
    /// What a folder holds.
    public enum Kind: String, Sendable {
        /// `config.json`, weights and tokenizer files (and a sentence-transformers folder's modules).
        case model
        /// A `verdict train` run: `checkpoint-N/`, `final/`, `reports/`, logs and the training curve.
        case trainingRun = "training-run"
        /// An HTML evaluation report.
        case report
    }

    /// The folder.
    public let url: URL
    /// What it holds.
    public let kind: Kind
    /// The flag that named the folder (for errors), if a command line did.
    public let flag: String?

    static let markerName = ".verdict-output.json"

    /// Checks that `path` can take `kind` of output without losing anything: it is new (its
    /// parent folders are created when needed), empty or Verdict's own earlier output of that kind;
    /// it is not a file, not one of `inputs` and holds none of them; it can be written. Changes
    /// nothing on disk except creating missing parent folders.
    public static func prepare(_ path: String, kind: Kind, flag: String? = nil, inputs: [URL] = []) throws -> OutputFolder {
        let folder = OutputFolder(url: URL(fileURLWithPath: path).standardizedFileURL, kind: kind, flag: flag)
        try folder.check(inputs: inputs)
        return folder
    }

    init(url: URL, kind: Kind, flag: String?) { (self.url, self.kind, self.flag) = (url, kind, flag) }

    /// Writes the folder's new contents: `contents` fills a hidden sibling folder, the marker is
    /// added, and the sibling is renamed into place (an earlier output of Verdict's is replaced
    /// only then, and only after checking once more that it holds nothing else).
    public func write(_ contents: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        try createFolder(parent)
        let temporary = parent.appendingPathComponent(".tmp-\(url.lastPathComponent)-\(getpid())")
        try? fm.removeItem(at: temporary)
        try createFolder(temporary)
        do {
            try contents(temporary)
            try writeMarker(in: temporary, files: try Self.files(in: temporary))
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isFolder) else { return try rename(temporary, url) }
        // The old output is checked again: a file put there while the work ran is not deleted.
        let foreign = isFolder.boolValue ? (try? foreignEntries()) ?? ["(unreadable)"] : [url.lastPathComponent]
        guard foreign.isEmpty else { throw OutputError.changedMeanwhile(path: url.path, foreign: foreign, result: temporary.path) }
        let old = parent.appendingPathComponent(".old-\(url.lastPathComponent)-\(getpid())")
        try? fm.removeItem(at: old)
        try rename(url, old)
        try rename(temporary, url)
        try? fm.removeItem(at: old)
    }

    /// Creates the folder if it is new and marks it as Verdict's, for output written piece by
    /// piece (a training run's checkpoints) rather than at once.
    public func claim() throws {
        try createFolder(url)
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent(Self.markerName).path) {
            try writeMarker(in: url, files: [])
        }
    }

    // MARK: Checks

    private func check(inputs: [URL]) throws {
        let fm = FileManager.default
        if let input = url.firstInput(of: inputs, orOneInside: true) {
            throw OutputError.containsInput(flag: flag, path: url.path, input: input.path)
        }
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw OutputError.isAFile(flag: flag, path: url.path) }
            let foreign = try foreignEntries()
            guard foreign.isEmpty else { throw OutputError.foreignFiles(flag: flag, path: url.path, names: foreign) }
            guard access(url.path, W_OK) == 0 else { throw OutputError.notWritable(flag: flag, path: url.path, reason: String(cString: strerror(errno))) }
            return
        }
        // A new folder: its nearest existing ancestor must be a folder we may write into.
        var ancestor = url.deletingLastPathComponent()
        while !fm.fileExists(atPath: ancestor.path, isDirectory: &isFolder), ancestor.path != "/" { ancestor.deleteLastPathComponent() }
        guard isFolder.boolValue else { throw OutputError.notWritable(flag: flag, path: url.path, reason: "\(ancestor.path) is a file") }
        guard access(ancestor.path, W_OK) == 0 else {
            throw OutputError.notWritable(flag: flag, path: url.path, reason: "cannot create it in \(ancestor.path): \(String(cString: strerror(errno)))")
        }
    }

    /// What the folder holds that Verdict did not write (relative paths), sorted.
    func foreignEntries() throws -> [String] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: url.path) } catch {
            throw OutputError.notWritable(flag: flag, path: url.path, reason: "cannot list it: \(fileErrorReason(error))")
        }
        if entries.isEmpty { return [] }
        if let marker = try readMarker() {
            guard marker.kind == kind.rawValue else {
                throw OutputError.otherKind(flag: flag, path: url.path, found: marker.kind, expected: kind.rawValue)
            }
            // Files, in any subfolder, that the marker does not list; for a training run, what a run writes.
            let listed = Set(marker.files)
            return try Self.files(in: url).filter { path in
                path != Self.markerName && !listed.contains(path) && !(kind == .trainingRun && Self.isTrainingRunEntry(String(path.split(separator: "/")[0])))
            }.sorted()
        }
        // No marker: Verdict's only if every entry is a file this kind of output consists of.
        let isOwn: (String) -> Bool
        switch kind {
        case .model: isOwn = Self.legacyModelFiles.contains
        case .trainingRun: isOwn = Self.isTrainingRunEntry
        case .report: isOwn = { $0 == "report.html" }
        }
        return entries.filter { !isOwn($0) }.sorted()
    }

    /// The files a model folder of Verdict's held before folders were marked.
    static let legacyModelFiles: Set<String> = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                                "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt",
                                                "optimizer.safetensors", "trainer_state.json", "training_state.json"]

    static func isTrainingRunEntry(_ name: String) -> Bool {
        if ["final", "reports", "training_curve.svg", "log.jsonl"].contains(name) { return true }
        if name.hasPrefix("checkpoint-"), Int(name.dropFirst("checkpoint-".count)) != nil { return true }
        return [".tmp-", ".old-", ".deleting-checkpoint-"].contains { name.hasPrefix($0) }
    }

    // MARK: The marker

    struct Marker { var kind: String; var files: [String] }

    private func readMarker() throws -> Marker? {
        let file = url.appendingPathComponent(Self.markerName)
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        guard let root = try? JSONNode.parse(data: data, file: file.path), let kind = try? root.required("kind").string(),
              let files = try? root.required("files").array().map({ try $0.string() }) else {
            throw OutputError.foreignFiles(flag: flag, path: url.path, names: [Self.markerName + " (not one Verdict wrote)"])
        }
        return Marker(kind: kind, files: files)
    }

    private func writeMarker(in folder: URL, files: [String]) throws {
        let json = JSONValue.object([("written_by", .string("verdict")), ("kind", .string(kind.rawValue)),
                                     ("files", .array(files.sorted().map { .string($0) }))]).serialized(indent: 2) + "\n"
        let file = folder.appendingPathComponent(Self.markerName)
        do { try Data(json.utf8).write(to: file, options: .atomic) } catch {
            throw OutputError.writeFailed(path: file.path, reason: fileErrorReason(error))
        }
    }

    /// Every regular file under `folder`, as paths relative to it.
    static func files(in folder: URL) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder), !isFolder.boolValue {
                files.append(path)
            }
        }
        return files
    }

    private func createFolder(_ folder: URL) throws {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw OutputError.writeFailed(path: folder.path, reason: fileErrorReason(error))
        }
    }

    private func rename(_ from: URL, _ to: URL) throws {
        guard Foundation.rename(from.path, to.path) == 0 else {
            throw OutputError.writeFailed(path: to.path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Where Verdict writes one file of results (`evaluate --predictions`): a new file, or its own
/// earlier output that `isOwn` recognises; never a folder, an input, or a user's file.
public struct OutputFile: Sendable {
    /// The file.
    public let url: URL
    /// The flag that named the file (for errors), if a command line did.
    public let flag: String?

    /// Checks `path` before any work (see `OutputFolder.prepare`): not a folder, not an input,
    /// and, when it exists, a file `isOwn` recognises as an earlier output of the same command.
    public static func prepare(_ path: String, flag: String? = nil, inputs: [URL] = [], isOwn: (URL) -> Bool) throws -> OutputFile {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if let input = url.firstInput(of: inputs, orOneInside: false) {
            throw OutputError.containsInput(flag: flag, path: url.path, input: input.path)
        }
        var isFolder: ObjCBool = false
        let fm = FileManager.default
        if fm.fileExists(atPath: url.path, isDirectory: &isFolder) {
            guard !isFolder.boolValue else { throw OutputError.isAFolder(flag: flag, path: url.path) }
            guard isOwn(url) else { throw OutputError.foreignFile(flag: flag, path: url.path) }
        }
        let parent = url.deletingLastPathComponent()
        guard fm.fileExists(atPath: parent.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw OutputError.notWritable(flag: flag, path: url.path, reason: "no folder \(parent.path)")
        }
        guard access(parent.path, W_OK) == 0 else { throw OutputError.notWritable(flag: flag, path: url.path, reason: String(cString: strerror(errno))) }
        return OutputFile(url: url, flag: flag)
    }

    /// Writes `data` atomically (a temporary file renamed into place).
    public func write(_ data: Data) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw OutputError.writeFailed(path: url.path, reason: fileErrorReason(error))
        }
    }
}

/// Why an output cannot be written; every case names the path (and the flag that named it) and
/// what to do. Nothing has been changed on disk when one of these is thrown.
public enum OutputError: Error, CustomStringConvertible, Equatable {
    case containsInput(flag: String?, path: String, input: String)
    case isAFile(flag: String?, path: String)
    case isAFolder(flag: String?, path: String)
    case foreignFiles(flag: String?, path: String, names: [String])
    case foreignFile(flag: String?, path: String)
    case otherKind(flag: String?, path: String, found: String, expected: String)
    case notWritable(flag: String?, path: String, reason: String)
    case changedMeanwhile(path: String, foreign: [String], result: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        func named(_ flag: String?, _ path: String) -> String { flag.map { "\($0) \(path)" } ?? path }
        switch self {
        case let .containsInput(flag, path, input):
            return "\(named(flag, path)): the output would replace the input \(input); choose a new folder or file"
        case let .isAFile(flag, path):
            return "\(named(flag, path)): is a file, not a folder; choose a new folder (it is created) or an empty one"
        case let .isAFolder(flag, path):
            return "\(named(flag, path)): is a folder; name a file to write"
        case let .foreignFiles(flag, path, names):
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", … (\(names.count) in all)" : "")
            return "\(named(flag, path)): the folder holds files Verdict did not write (\(shown)); nothing was changed. "
                + "Choose a new folder (it is created) or an empty one"
        case let .foreignFile(flag, path):
            return "\(named(flag, path)): the file exists and is not an earlier output of this command; nothing was changed. "
                + "Choose another name or remove it yourself"
        case let .otherKind(flag, path, found, expected):
            return "\(named(flag, path)): holds Verdict's \(found) output, not a \(expected); choose a new folder"
        case let .notWritable(flag, path, reason):
            return "\(named(flag, path)): cannot be written (\(reason))"
        case let .changedMeanwhile(path, foreign, result):
            return "\(path): files appeared in it while Verdict worked (\(foreign.prefix(5).joined(separator: ", "))), so it was not replaced; "
                + "the new output is in \(result)"
        case let .writeFailed(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

private extension URL {
    /// The first of `inputs` that this output path is (symbolic links resolved), or with
    /// `orOneInside`, that lies inside it: what `OutputFolder` and `OutputFile` refuse to write over.
    func firstInput(of inputs: [URL], orOneInside: Bool) -> URL? {
        let resolved = resolvingSymlinksInPath().path
        let folder = resolved.hasSuffix("/") ? resolved : resolved + "/"
        return inputs.first { input in
            let path = input.standardizedFileURL.resolvingSymlinksInPath().path
            return path == resolved || (orOneInside && path.hasPrefix(folder))
        }
    }
}
