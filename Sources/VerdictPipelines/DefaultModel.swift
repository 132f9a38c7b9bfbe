import Foundation
import VerdictHub

/// Verdict's bundled default model: a binary sentiment classifier (NEGATIVE/POSITIVE)
/// fine-tuned by Verdict from all-MiniLM-L6-v2 on SST-2 (recipe: `recipes/default-sentiment.json`),
/// stored in the repository at `Models/default-sentiment`.
public enum DefaultModel {
    /// Folder name inside the repository.
    public static let relativePath = "Models/default-sentiment"

    /// The default model's folder: `$VERDICT_DEFAULT_MODEL`, else `Models/default-sentiment` found
    /// next to the running executable's checkout (`.build/<config>/verdict`) or in the current directory.
    public static func path() throws -> String {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["VERDICT_DEFAULT_MODEL"], !env.isEmpty { return env }
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent(relativePath))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(relativePath))
        if let found = candidates.first(where: { fm.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) { return found.path }
        throw CheckpointError.unreadableFile(path: relativePath, reason: "the default model was not found; pass --model or set VERDICT_DEFAULT_MODEL")
    }
}
