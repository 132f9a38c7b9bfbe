import Foundation
import VerdictDefaultModel

/// Verdict's bundled default model: a binary sentiment classifier (NEGATIVE/POSITIVE)
/// fine-tuned by Verdict from all-MiniLM-L6-v2 on SST-2 (recipe: `recipes/default-sentiment.json`).
///
/// It ships with the code as a resource of the `VerdictDefaultModel` target
/// (`Sources/VerdictDefaultModel/default-sentiment`), so `pipeline(.textClassification)` works
/// in any package that depends on Verdict and in an installed `verdict`; see docs/Install.md.
public enum DefaultModel {
    /// The default model could not be found.
    public struct NotFound: Error, CustomStringConvertible {
        /// The folders that were searched.
        public var searched: [String]
        public init(searched: [String]) { self.searched = searched }
        public var description: String {
            "Verdict's default model was not found (searched \(searched.joined(separator: ", "))); "
                + "give the pipeline a model folder or Hub id, e.g. pipeline(.textClassification, model: \"path/to/model\"), "
                + "or set VERDICT_DEFAULT_MODEL to a model folder"
        }
    }

    /// The default model's folder: `$VERDICT_DEFAULT_MODEL` when set, else the bundled copy
    /// (beside the running executable, in `<prefix>/share/verdict`, or in Verdict's sources).
    public static func path() throws -> String {
        if let env = ProcessInfo.processInfo.environment["VERDICT_DEFAULT_MODEL"], !env.isEmpty { return env }
        if let folder = DefaultModelResource.folder() { return folder.path }
        throw NotFound(searched: DefaultModelResource.candidates().map(\.path))
    }
}
