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

    /// Texts with their label ids into `labelNames` (`labels[i]` labels `texts[i]`).
    public init(texts: [String], labels: [Int], labelNames: [String]) {
        self.texts = texts; self.labels = labels; self.labelNames = labelNames
    }

    /// The text column when none is named: the first of these a file has (Hugging Face datasets
    /// call it `text`, GLUE `sentence`, review corpora `review`).
    public static let defaultTextColumns = ["text", "sentence", "review", "content"]

    /// The label column when none is named: the first of these a file has.
    public static let defaultLabelColumns = ["label", "labels"]

    /// Loads `textColumn` and `labelColumn` (default: the first of `defaultTextColumns` and of
    /// `defaultLabelColumns` the file has; when it has none, the error lists the file's columns)
    /// from CSV/TSV (by extension, RFC 4180), JSON Lines or a JSON array. With
    /// `labelNames`, labels may be given as those names or as ids; without, integer labels `0…k`
    /// keep their order and string labels are sorted. A label column that mixes integer ids and
    /// names (without `labelNames` to relate them) is an error.
    public static func load(_ url: URL, textColumn: String? = nil, labelColumn: String? = nil,
                            labelNames: [String]? = nil) throws -> LabelledTexts {
        let (table, lines) = try Dataset.loadWithLineNumbers(url)
        guard table.count > 0 else { throw DatasetError.emptyFile(path: url.path) }   // a header and no rows
        func firstPresent(_ names: [String]) -> String { names.first { table.columns[$0] != nil } ?? names.joined(separator: " or ") }
        let textColumn = textColumn ?? firstPresent(defaultTextColumns)
        let labelColumn = labelColumn ?? firstPresent(defaultLabelColumns)
        func column(_ name: String) throws -> [String] {
            guard let values = table.columns[name] else {
                throw DatasetError.missingColumn(path: url.path, column: name, available: table.columnNames)
            }
            return values
        }
        let texts = try column(textColumn)
        let raw = try column(labelColumn)
        if let empty = raw.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw DatasetError.emptyLabel(path: url.path, line: lines[empty], column: labelColumn)
        }
        let names: [String]
        if let labelNames {
            names = labelNames
        } else if let first = raw.first {
            let idsFirst = Int(first) != nil
            if let odd = raw.firstIndex(where: { (Int($0) != nil) != idsFirst }) {
                throw DatasetError.mixedLabelTypes(path: url.path, line: lines[odd], column: labelColumn, value: raw[odd],
                                                   expected: idsFirst ? "an integer id, as on line \(lines[0])" : "a label name, as on line \(lines[0])")
            }
            if idsFirst {
                let maxId = raw.compactMap { Int($0) }.max() ?? 0
                // Ids name classes 0…maxId: one stray huge id must not ask for billions of names.
                if maxId > max(100_000, raw.count), let odd = raw.firstIndex(where: { Int($0) == maxId }) {
                    throw DatasetError.labelIdOutOfRange(path: url.path, line: lines[odd], column: labelColumn, value: raw[odd], limit: max(100_000, raw.count))
                }
                names = (0...max(0, maxId)).map(String.init)
            } else {
                names = Array(Set(raw)).sorted()
            }
        } else {
            names = []
        }
        var ids: [Int] = []
        ids.reserveCapacity(raw.count)
        for (value, line) in zip(raw, lines) {
            if let i = names.firstIndex(of: value) { ids.append(i) }
            else if let i = Int(value), names.indices.contains(i) { ids.append(i) }
            else { throw DatasetError.unknownLabel(path: url.path, line: line, label: value, known: names) }
        }
        return LabelledTexts(texts: texts, labels: ids, labelNames: names)
    }
}
