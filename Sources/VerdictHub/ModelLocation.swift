import Foundation

/// Resolves what a user passes as `--model`: a folder, or a Hub model id found in (or
/// downloaded into) the Hugging Face cache.
public enum ModelLocation {
    /// The Hugging Face cache root: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public static var cacheRoot: URL {
        let env = ProcessInfo.processInfo.environment
        if let c = env["HF_HUB_CACHE"], !c.isEmpty { return URL(fileURLWithPath: c) }
        if let h = env["HF_HOME"], !h.isEmpty { return URL(fileURLWithPath: h).appendingPathComponent("hub") }
        let home = env["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/huggingface/hub")
    }

    /// The cache folder of a repository: `models--org--name`.
    public static func cacheFolder(for repoId: String, root: URL = cacheRoot) -> URL {
        root.appendingPathComponent("models--" + repoId.replacingOccurrences(of: "/", with: "--"))
    }

    /// The snapshot folder of `repoId` at `revision` if the cache has one (`refs/<revision>` names the commit).
    public static func cachedSnapshot(for repoId: String, revision: String = "main", root: URL = cacheRoot) -> URL? {
        let folder = cacheFolder(for: repoId, root: root)
        var commit = revision
        if let ref = try? String(contentsOf: folder.appendingPathComponent("refs").appendingPathComponent(revision), encoding: .utf8) {
            commit = ref.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let snapshot = folder.appendingPathComponent("snapshots").appendingPathComponent(commit)
        let fm = FileManager.default
        return fm.fileExists(atPath: snapshot.appendingPathComponent("config.json").path) ? snapshot : nil
    }

    /// A valid repository id: `name` or `org/name` of letters, digits, `-`, `_`, `.`.
    public static func isRepoId(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { p in
            !p.isEmpty && !p.hasPrefix(".") && !p.contains("..") && p.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
        }
    }
}
