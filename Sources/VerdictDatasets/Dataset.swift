import Foundation
import VerdictJSON
import VerdictProgress
import VerdictTensor

/// A column-oriented table of string values, like 🤗 `datasets.Dataset`: load it from CSV/TSV,
/// JSON Lines or a JSON array, select/filter/map/shuffle it, split it (random, stratified,
/// grouped) reproducibly from a seed, and encode its labels.
public struct Dataset: Sendable, Equatable {
    /// Column names in order.
    public private(set) var columnNames: [String]
    /// Values by column.
    public private(set) var columns: [String: [String]]

    public var count: Int { columnNames.first.map { columns[$0]!.count } ?? 0 }

    /// Builds from equal-length columns (order as given).
    public init(columns: [(String, [String])]) {
        precondition(Set(columns.map { $0.1.count }).count <= 1, "columns differ in length")
        columnNames = columns.map(\.0)
        self.columns = Dictionary(uniqueKeysWithValues: columns)
    }

    /// Builds from records; columns are the union of keys in first-seen order, missing values "".
    public init(records: [[String: String]]) {
        var names: [String] = []
        for r in records { for k in r.keys.sorted() where !names.contains(k) { names.append(k) } }
        self.init(columns: names.map { n in (n, records.map { $0[n] ?? "" }) })
    }

    /// Loads CSV/TSV (by extension; RFC 4180), `.jsonl` (one object per line) or `.json` (an array of objects).
    public static func load(_ url: URL) throws -> Dataset { try loadWithLineNumbers(url).dataset }

    /// `load`, plus the line of the file each row came from (the element number in a JSON array),
    /// for errors that point into the file.
    static func loadWithLineNumbers(_ url: URL) throws -> (dataset: Dataset, lines: [Int]) {
        switch url.pathExtension.lowercased() {
        case "jsonl", "ndjson": return try loadJSONLines(url)
        case "json":
            let d = try loadJSONArray(url)
            return (d, Array(1..<(d.count + 1)))
        default:
            let t = try DelimitedTable(url: url)
            // Columns are keyed by name: a repeated header name is an error, not a trap in `init(columns:)`.
            var seen = Set<String>()
            if let repeated = t.header.first(where: { !seen.insert($0).inserted }) { throw DatasetError.duplicateColumn(path: url.path, column: repeated) }
            return (Dataset(columns: t.header.enumerated().map { j, name in (name, t.rows.map { $0[j] }) }), t.lines)
        }
    }

    static func scalarString(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): return s
        case .number(let d, let isInteger): return isInteger && abs(d) < 9e15 ? String(Int(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        default: return nil
        }
    }

    static func record(_ v: JSONValue, path: String, line: Int) throws -> [String: String] {
        guard case .object(let members) = v else { throw DatasetError.invalidJSON(path: path, line: line, reason: "expected an object") }
        var r: [String: String] = [:]
        for (k, value) in members {
            guard let s = scalarString(value) else { throw DatasetError.invalidJSON(path: path, line: line, reason: "field \(k) is not a string, number or boolean") }
            r[k] = s
        }
        return r
    }

    static func loadJSONLines(_ url: URL) throws -> (dataset: Dataset, lines: [Int]) {
        let data = try readDroppingByteOrderMark(url)
        var records: [[String: String]] = [], lines: [Int] = []
        for (i, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let value: JSONValue
            do { value = try JSONParser.parse(Data(line)) } catch { throw DatasetError.invalidJSON(path: url.path, line: i + 1, reason: "\(error)") }
            records.append(try record(value, path: url.path, line: i + 1))
            lines.append(i + 1)
        }
        guard !records.isEmpty else { throw DatasetError.emptyFile(path: url.path) }
        return (Dataset(records: records), lines)
    }

    /// A file's bytes without a leading UTF-8 byte-order mark (which CSV/TSV readers also skip).
    static func readDroppingByteOrderMark(_ url: URL) throws -> Data {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DatasetError.unreadableFile(path: url.path, reason: fileErrorReason(error)) }
        return data.starts(with: [0xEF, 0xBB, 0xBF]) ? Data(data.dropFirst(3)) : data
    }

    static func loadJSONArray(_ url: URL) throws -> Dataset {
        let data = try readDroppingByteOrderMark(url)
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch { throw DatasetError.invalidJSON(path: url.path, line: 1, reason: "\(error)") }
        guard case .array(let items) = value else { throw DatasetError.invalidJSON(path: url.path, line: 1, reason: "expected an array of objects") }
        guard !items.isEmpty else { throw DatasetError.emptyFile(path: url.path) }
        return Dataset(records: try items.enumerated().map { try record($0.element, path: url.path, line: $0.offset + 1) })
    }

    /// One column's values.
    public func column(_ name: String) throws -> [String] {
        guard let c = columns[name] else { throw DatasetError.missingColumn(path: "dataset", column: name, available: columnNames) }
        return c
    }

    /// Rows at `indices`, in that order.
    public func select(_ indices: [Int]) -> Dataset {
        Dataset(columns: columnNames.map { n in (n, indices.map { columns[n]![$0] }) })
    }

    /// Rows whose record satisfies `predicate`.
    public func filter(_ predicate: ([String: String]) -> Bool) -> Dataset {
        select((0..<count).filter { predicate(record(at: $0)) })
    }

    /// The row at `index` as a record.
    public func record(at index: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: columnNames.map { ($0, columns[$0]![index]) })
    }

    /// Adds or replaces a column computed from each record, on all cores (order kept).
    public func map(column name: String, _ transform: @Sendable ([String: String]) -> String) -> Dataset {
        let values = map(batchSize: 1000, progress: nil) { batch in (0..<batch.count).map { transform(batch.record(at: $0)) } }
        var copy = self
        if copy.columns[name] == nil { copy.columnNames.append(name) }
        copy.columns[name] = values
        return copy
    }

    /// One value per row, computed batch by batch on all cores, like `datasets.map(fn, batched=True)`:
    /// `transform` receives consecutive rows as a `Dataset` and returns one value per row of it.
    /// Results come back in row order; the first batch error is rethrown. Returning a different
    /// number of values than rows is a programming error and traps. With a `progress` label,
    /// inputs over 10,000 rows show a progress bar (plain log lines when not on a terminal).
    ///
    ///     let encodings = try train.map(batchSize: 1000, progress: "tokenize") { batch in
    ///         try batch.column("sentence").map { try tokenizer.encode($0) }
    ///     }
    public func map<T: Sendable, E: Error>(batchSize: Int = 1000, progress label: String? = "map",
                                           _ transform: @Sendable (Dataset) throws(E) -> [T]) throws(E) -> [T] {
        let n = count, size = max(1, batchSize)
        let batches = (n + size - 1) / size
        let progress = label.flatMap { n > 10_000 ? ProgressReporter(total: n, label: $0) : nil }
        let results = BatchResults<T, E>(count: batches)
        Parallel.forEach(batches) { b in
            let range = (b * size)..<min(n, (b + 1) * size)
            let result = Result { () throws(E) -> [T] in try transform(select(Array(range))) }
            if case .success(let values) = result {
                precondition(values.count == range.count, "Dataset.map: the transform returned \(values.count) values for a batch of \(range.count) rows")
            }
            results.store(b, result)
            progress?.advance(by: range.count)
        }
        if let progress, batches > 0 { progress.finish() }
        return try results.joined()
    }

    /// A seeded permutation of the rows (identical on every machine and run).
    public func shuffled(seed: UInt64) -> Dataset { select(Self.permutation(count, seed: seed)) }

    static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var order = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, Int(next() % UInt64(i + 1))) } }
        return order
    }
}

/// Per-batch results of `Dataset.map`, written from worker threads (each slot by one batch).
private final class BatchResults<T: Sendable, E: Error>: @unchecked Sendable {
    private var slots: [Result<[T], E>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<[T], E>) { lock.withLock { slots[index] = result } }

    /// The results in batch order, or the first failed batch's error.
    func joined() throws(E) -> [T] {
        var out: [T] = []
        for case let slot? in slots { out.append(contentsOf: try slot.get()) }
        return out
    }
}
