import Foundation

/// Texts with class labels, loaded from a CSV/TSV/JSONL file: what `verdict train` and
/// `verdict evaluate` read.
public struct LabelledTexts: Sendable {
    public var texts: [String]
    /// Label ids into `labelNames`.
    public var labels: [Int]
    /// Class names in id order.
    public var labelNames: [String]

    public var count: Int { texts.count }

    /// Loads `textColumn` and `labelColumn`. With `labelNames`, labels may be given as those names
    /// or as ids; without, integer labels `0…k` keep their order and string labels are sorted.
    public static func load(_ url: URL, textColumn: String = "sentence", labelColumn: String = "label",
                            labelNames: [String]? = nil) throws -> LabelledTexts {
        let table = try DelimitedTable(url: url)
        let texts = try table.column(textColumn)
        let raw = try table.column(labelColumn)
        let names: [String]
        if let labelNames {
            names = labelNames
        } else if raw.allSatisfy({ Int($0) != nil }) {
            let maxId = raw.compactMap { Int($0) }.max() ?? 0
            names = (0...maxId).map(String.init)
        } else {
            names = Array(Set(raw)).sorted()
        }
        var ids: [Int] = []
        ids.reserveCapacity(raw.count)
        for (value, line) in zip(raw, table.lines) {
            if let i = names.firstIndex(of: value) { ids.append(i) }
            else if let i = Int(value), names.indices.contains(i) { ids.append(i) }
            else { throw DatasetError.unknownLabel(path: url.path, line: line, label: value, known: names) }
        }
        return LabelledTexts(texts: texts, labels: ids, labelNames: names)
    }
}
