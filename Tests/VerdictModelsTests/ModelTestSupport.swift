import Foundation
import VerdictTestSupport
import XCTest
import VerdictTokenizers

/// Paths shared by the model tests.
enum ModelFixtures {
    static let repoRoot = Repository.root
    static let folder = repoRoot.appendingPathComponent("Fixtures/models")

    /// The all-MiniLM-L6-v2 folder: `$VERDICT_MINILM_DIR`, else where `tools/fetch_weights.sh` puts it.
    static func miniLM() throws -> URL { try Repository.miniLM() }

    /// A real checkpoint fetched by tools/fetch_family_weights.sh (`VERDICT_<NAME>_DIR` overrides).
    static func realWeights(_ family: String, _ relative: String) throws -> URL {
        try Repository.realWeights(family, relative, fetchedBy: "tools/fetch_family_weights.sh \(family)")
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
