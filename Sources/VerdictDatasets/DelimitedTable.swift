import Foundation
import VerdictJSON

/// A CSV/TSV file read with RFC 4180 quoting: fields may be quoted, contain the delimiter,
/// doubled quotes and newlines. Rows remember the line they start on, for error messages.
public struct DelimitedTable: Sendable {
    public var header: [String]
    public var rows: [[String]]
    /// 1-based line number where each row starts.
    public var lines: [Int]
    public let path: String

    /// Reads a file; the delimiter defaults to tab for `.tsv` and comma otherwise.
    public init(url: URL, delimiter: UInt8? = nil, hasHeader: Bool = true) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DatasetError.unreadableFile(path: url.path, reason: fileErrorReason(error)) }
        try self.init(data: data, path: url.path, delimiter: delimiter ?? (url.pathExtension.lowercased() == "tsv" ? 9 : 44), hasHeader: hasHeader)
    }

    public init(data: Data, path: String, delimiter: UInt8, hasHeader: Bool = true) throws {
        self.path = path
        var records: [[String]] = [], starts: [Int] = []
        var record: [String] = [], field: [UInt8] = []
        var quoted = false, wasQuoted = false
        var line = 1, recordStart = 1
        let bytes = [UInt8](data)
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        func finishField() throws {
            guard let s = String(validating: field, as: UTF8.self) else { throw DatasetError.invalidUTF8(path: path, line: line) }
            record.append(s); field.removeAll(keepingCapacity: true); wasQuoted = false
        }
        while i < bytes.count {
            let c = bytes[i]
            if quoted {
                if c == 0x22 {
                    if i + 1 < bytes.count, bytes[i + 1] == 0x22 { field.append(0x22); i += 1 } else { quoted = false }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
            } else if c == 0x22, field.isEmpty, !wasQuoted {
                quoted = true; wasQuoted = true
            } else if c == delimiter {
                try finishField()
            } else if c == 0x0A || c == 0x0D {
                if c == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                try finishField()
                if !(record.count == 1 && record[0].isEmpty) { records.append(record); starts.append(recordStart) }
                record = []
                line += 1
                recordStart = line
            } else {
                field.append(c)
            }
            i += 1
        }
        if quoted { throw DatasetError.unterminatedQuote(path: path, line: recordStart) }
        if !field.isEmpty || !record.isEmpty || wasQuoted {
            try finishField()
            records.append(record); starts.append(recordStart)
        }
        guard !records.isEmpty else { throw DatasetError.emptyFile(path: path) }
        header = hasHeader ? records.removeFirst() : (0..<records[0].count).map { "column\($0)" }
        if hasHeader { starts.removeFirst() }
        for (r, l) in zip(records, starts) where r.count != header.count {
            // A tab-separated file read as CSV (or the reverse) is the usual cause: say so.
            let other: UInt8 = delimiter == 9 ? 44 : 9
            let firstLine = bytes.prefix { $0 != 0x0A }
            if hasHeader, firstLine.contains(other), !firstLine.contains(delimiter) || header.count == 1 {
                throw DatasetError.wrongDelimiter(path: path, line: l, expected: header.count, found: r.count, likely: other == 9 ? "tab" : "comma")
            }
            throw DatasetError.raggedRow(path: path, line: l, expected: header.count, found: r.count)
        }
        rows = records
        lines = starts
    }

    /// All values of a column.
    public func column(_ name: String) throws -> [String] {
        guard let j = header.firstIndex(of: name) else { throw DatasetError.missingColumn(path: path, column: name, available: header) }
        return rows.map { $0[j] }
    }
}
