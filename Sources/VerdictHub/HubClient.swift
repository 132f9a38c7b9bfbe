import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads model repositories from the Hugging Face Hub (or any server with its URL layout:
/// `<endpoint>/<repo>/resolve/<revision>/<file>`) into the standard cache:
///
///     <cache>/models--org--name/blobs/<etag>                 file contents
///     <cache>/models--org--name/snapshots/<commit>/<file>    symlink to ../../blobs/<etag>
///     <cache>/models--org--name/refs/<revision>              the commit a revision resolved to
///
/// Honours `HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_OFFLINE=1`, `HF_HOME`/`HF_HUB_CACHE`. Partial
/// downloads (`blobs/<etag>.incomplete`) resume with a `Range` request; finished blobs are
/// renamed into place, so an interrupted download never leaves a truncated file behind.
public struct HubClient: Sendable {
    public var endpoint: URL
    public var token: String?
    public var offline: Bool
    public var cacheRoot: URL
    /// Show a progress bar/log lines while downloading.
    public var showProgress = true

    /// A client configured from the environment; an `HF_ENDPOINT` that is not an http(s) URL is an error.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(HubError) {
        let address = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        guard let url = URL(string: address), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw .invalidEndpoint(address)
        }
        endpoint = url
        token = environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        offline = ["1", "true", "yes", "on"].contains((environment["HF_HUB_OFFLINE"] ?? "").lowercased())
        cacheRoot = ModelLocation.cacheRoot
    }

    public init(endpoint: URL, token: String? = nil, offline: Bool = false, cacheRoot: URL) {
        self.endpoint = endpoint; self.token = token; self.offline = offline; self.cacheRoot = cacheRoot
    }

    /// Errors from the Hub.
    public enum HubError: Error, CustomStringConvertible, Equatable {
        case invalidRepoId(String)
        case offlineAndNotCached(repo: String)
        case http(status: Int, url: String)
        case network(url: String, reason: String)
        case missingHeader(String, url: String)
        case invalidEndpoint(String)

        public var description: String {
            switch self {
            case let .invalidRepoId(id): return "\"\(id)\" is not a valid model id (expected org/name)"
            case let .offlineAndNotCached(repo): return "HF_HUB_OFFLINE is set and \(repo) is not in the cache"
            case let .http(status, url):
                let hint = status == 401 || status == 403 ? " (set HF_TOKEN for private or gated models)" : status == 404 ? " (no such repository, revision or file)" : ""
                return "HTTP \(status) for \(url)\(hint)"
            case let .network(url, reason): return "cannot reach \(url): \(reason)"
            case let .missingHeader(h, url): return "\(url): response has no \(h) header"
            case let .invalidEndpoint(address): return "HF_ENDPOINT \"\(address)\" is not an http(s) URL"
            }
        }
    }

    /// The files a classifier needs, in the order tried. Optional files may be absent.
    static let requiredFiles = ["config.json"]
    static let optionalFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt"]
    static let weightChoices = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]

    /// Makes sure the snapshot of `repo` at `revision` holds config, tokenizer and weights; returns its folder.
    public func snapshot(repo: String, revision: String = "main") throws -> URL {
        guard ModelLocation.isRepoId(repo) else { throw HubError.invalidRepoId(repo) }
        if let cached = ModelLocation.cachedSnapshot(for: repo, revision: revision, root: cacheRoot), hasWeights(cached) { return cached }
        if offline { throw HubError.offlineAndNotCached(repo: repo) }
        var folder: URL? = nil
        for file in Self.requiredFiles { folder = try download(repo: repo, revision: revision, file: file) }
        for file in Self.optionalFiles { folder = try download(repo: repo, revision: revision, file: file, optional: true) ?? folder }
        for file in Self.weightChoices {
            guard let f = try download(repo: repo, revision: revision, file: file, optional: true) else { continue }
            folder = f
            if file.hasSuffix(".index.json") {
                for shard in try Checkpoint.shards(f.appendingPathComponent(file)) { folder = try download(repo: repo, revision: revision, file: shard) }
            }
            break
        }
        guard let folder, hasWeights(folder) else { throw HubError.http(status: 404, url: "\(endpoint)/\(repo) (no weights file)") }
        return folder
    }

    func hasWeights(_ folder: URL) -> Bool {
        Self.weightChoices.contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
    }

    /// Downloads one file into the cache and returns its snapshot folder (nil for a missing optional file).
    @discardableResult
    public func download(repo: String, revision: String, file: String, optional: Bool = false) throws -> URL? {
        let url = endpoint.appendingPathComponent(repo).appendingPathComponent("resolve").appendingPathComponent(revision).appendingPathComponent(file)
        let head = try HTTP.request(url, method: "HEAD", token: token, followRedirects: false)
        if optional && head.status == 404 { return nil }
        guard (200..<400).contains(head.status) else { throw HubError.http(status: head.status, url: url.absoluteString) }
        guard let commit = head.header("X-Repo-Commit") else { throw HubError.missingHeader("X-Repo-Commit", url: url.absoluteString) }
        guard let rawTag = head.header("X-Linked-Etag") ?? head.header("ETag") else { throw HubError.missingHeader("ETag", url: url.absoluteString) }
        let etag = rawTag.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard !etag.isEmpty, etag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), commit.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw HubError.missingHeader("a plain ETag and commit", url: url.absoluteString)
        }
        let fm = FileManager.default
        let repoFolder = ModelLocation.cacheFolder(for: repo, root: cacheRoot)
        let blobs = repoFolder.appendingPathComponent("blobs"), snapshot = repoFolder.appendingPathComponent("snapshots").appendingPathComponent(commit)
        let refs = repoFolder.appendingPathComponent("refs")
        for d in [blobs, snapshot, refs] { try fm.createDirectory(at: d, withIntermediateDirectories: true) }
        let blob = blobs.appendingPathComponent(etag)
        if !fm.fileExists(atPath: blob.path) {
            let partial = blobs.appendingPathComponent(etag + ".incomplete")
            try HTTP.download(url, to: partial, token: token, label: file, showProgress: showProgress)
            guard rename(partial.path, blob.path) == 0 else { throw HubError.network(url: url.absoluteString, reason: "cannot rename \(partial.path)") }
        }
        let link = snapshot.appendingPathComponent(file)
        if !fm.fileExists(atPath: link.path) {
            try? fm.removeItem(at: link)
            try fm.createSymbolicLink(atPath: link.path, withDestinationPath: "../../blobs/" + etag)
        }
        if revision != commit { try Data(commit.utf8).write(to: refs.appendingPathComponent(revision), options: .atomic) }
        return snapshot
    }
}
