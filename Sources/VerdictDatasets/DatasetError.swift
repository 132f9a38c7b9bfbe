import Foundation

/// Errors raised while loading data files; each names the file and, where it applies, the line and column.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case unreadableFile(path: String, reason: String)
    case emptyFile(path: String)
    case invalidUTF8(path: String, line: Int)
    case raggedRow(path: String, line: Int, expected: Int, found: Int)
    case unterminatedQuote(path: String, line: Int)
    case missingColumn(path: String, column: String, available: [String])
    case unknownLabel(path: String, line: Int, label: String, known: [String])
    case invalidJSON(path: String, line: Int, reason: String)
    case mixedLabelTypes(path: String, line: Int, column: String, value: String, expected: String)
    case emptyLabel(path: String, line: Int, column: String)
    case labelIdOutOfRange(path: String, line: Int, column: String, value: String, limit: Int)
    case duplicateColumn(path: String, column: String)
    case wrongDelimiter(path: String, line: Int, expected: Int, found: Int, likely: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "cannot read \(path): \(reason)"
        case let .emptyFile(path): return "\(path) has no data rows"
        case let .invalidUTF8(path, line): return "\(path):\(line): invalid UTF-8"
        case let .raggedRow(path, line, expected, found): return "\(path):\(line): expected \(expected) fields, found \(found)"
        case let .unterminatedQuote(path, line): return "\(path):\(line): quoted field never closed"
        case let .missingColumn(path, column, available):
            var hint = ""
            if available.count == 1, let only = available.first {
                if only.contains("\t") { hint = "; the header looks tab-separated: name the file .tsv" }
                else if only.contains(",") { hint = "; the header looks comma-separated: name the file .csv" }
                else if path.hasSuffix(".csv") || path.hasSuffix(".tsv") { hint = "; for one text per line, name the file .txt" }
            }
            return "\(path): no column \"\(column)\" (columns: \(available.joined(separator: ", ")))" + hint
        case let .unknownLabel(path, line, label, known): return "\(path):\(line): unknown label \"\(label)\" (labels: \(known.joined(separator: ", ")))"
        case let .invalidJSON(path, line, reason): return "\(path):\(line): \(reason)"
        case let .mixedLabelTypes(path, line, column, value, expected):
            return "\(path):\(line): column \"\(column)\" mixes label types: \"\(value)\" where \(expected) was expected (pass the label names to relate ids and names)"
        case let .labelIdOutOfRange(path, line, column, value, limit):
            return "\(path):\(line): column \"\(column)\" has class id \(value), but integer labels name classes 0, 1, 2, … below \(limit)"
        case let .emptyLabel(path, line, column): return "\(path):\(line): column \"\(column)\" is empty (every training row needs a label)"
        case let .wrongDelimiter(path, line, expected, found, likely):
            let ext = likely == "tab" ? ".tsv" : ".csv"
            return "\(path):\(line): expected \(expected) fields, found \(found); the file looks \(likely)-separated: name it \(ext)"
        case let .duplicateColumn(path, column): return "\(path): the header names column \"\(column)\" more than once"
        }
    }
}
