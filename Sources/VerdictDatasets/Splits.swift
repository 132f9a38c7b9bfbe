import Foundation

/// Named splits of one dataset (`DatasetDict`).
public struct DatasetDict: Sendable {
    public var splits: [(name: String, dataset: Dataset)]

    public subscript(name: String) -> Dataset? { splits.first { $0.name == name }?.dataset }

    /// Counts of each value of `column` per split, for checking label balance.
    public func distribution(of column: String) throws -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (name, d) in splits { out[name] = try d.column(column).reduce(into: [:]) { $0[$1, default: 0] += 1 } }
        return out
    }
}

extension Dataset {
    /// `train_test_split`: a seeded random split, stratified by `stratifyBy` when given (each value's
    /// rows are divided in the same proportion, each share within one row of exact).
    public func trainTestSplit(testSize: Double, seed: UInt64, stratifyBy: String? = nil) throws -> DatasetDict {
        let parts = try split(fractions: [1 - testSize, testSize], seed: seed, stratifyBy: stratifyBy)
        return DatasetDict(splits: [("train", parts[0]), ("test", parts[1])])
    }

    /// Train/validation/test by fractions (summing to 1), optionally stratified.
    public func trainValidationTestSplit(validation: Double, test: Double, seed: UInt64, stratifyBy: String? = nil) throws -> DatasetDict {
        let parts = try split(fractions: [1 - validation - test, validation, test], seed: seed, stratifyBy: stratifyBy)
        return DatasetDict(splits: [("train", parts[0]), ("validation", parts[1]), ("test", parts[2])])
    }

    /// Splits so that all rows sharing a value of `groupBy` (e.g. a document id) land in the same
    /// split; groups are assigned in a seeded order until each split reaches its share of rows.
    public func groupedSplit(groupBy: String, fractions: [Double], names: [String], seed: UInt64) throws -> DatasetDict {
        guard !fractions.isEmpty, fractions.count == names.count else {
            throw DatasetError.invalidJSON(path: "split", line: 0, reason: "one name per fraction (\(names.count) names, \(fractions.count) fractions)")
        }
        guard fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-9 else {
            throw DatasetError.invalidJSON(path: "split", line: 0, reason: "fractions must be non-negative and sum to 1")
        }
        let keys = try column(groupBy)
        var groups: [String: [Int]] = [:], order: [String] = []
        for (i, k) in keys.enumerated() { if groups[k] == nil { order.append(k) }; groups[k, default: []].append(i) }
        let shuffled = Self.permutation(order.count, seed: seed).map { order[$0] }
        let targets = Self.apportion(count, fractions)
        var assigned = [[Int]](repeating: [], count: fractions.count)
        var s = 0
        for g in shuffled {
            while s < fractions.count - 1 && assigned[s].count >= targets[s] { s += 1 }
            assigned[s] += groups[g]!
        }
        return DatasetDict(splits: zip(names, assigned).map { ($0, select($1.sorted())) })
    }

    func split(fractions: [Double], seed: UInt64, stratifyBy: String?) throws -> [Dataset] {
        guard fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-9 else {
            throw DatasetError.invalidJSON(path: "split", line: 0, reason: "fractions must be non-negative and sum to 1")
        }
        var buckets = [[Int]](repeating: [], count: fractions.count)
        let permutation = Self.permutation(count, seed: seed)
        if let stratifyBy {
            let values = try column(stratifyBy)
            var byValue: [String: [Int]] = [:], valueOrder: [String] = []
            for i in permutation { if byValue[values[i]] == nil { valueOrder.append(values[i]) }; byValue[values[i], default: []].append(i) }
            // Each class is divided by largest-remainder rounding: every class's share in every split
            // is within one row of exact.
            let perClass = valueOrder.sorted().map { Self.apportion(byValue[$0]!.count, fractions) }
            for (k, value) in valueOrder.sorted().enumerated() {
                var start = 0
                for (s, n) in perClass[k].enumerated() { buckets[s] += byValue[value]![start..<(start + n)]; start += n }
            }
        } else {
            var start = 0
            for (s, n) in Self.apportion(count, fractions).enumerated() { buckets[s] = Array(permutation[start..<(start + n)]); start += n }
        }
        return buckets.map { select($0.sorted()) }
    }

    /// Largest-remainder rounding of `n * fraction` so the parts sum to `n`.
    static func apportion(_ n: Int, _ fractions: [Double]) -> [Int] {
        let exact = fractions.map { Double(n) * $0 }
        var parts = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(parts[$0]), -$0) > (exact[$1] - Double(parts[$1]), -$1) }
        for i in order.prefix(n - parts.reduce(0, +)) { parts[i] += 1 }
        return parts
    }
}

/// Maps string labels to ids and back (`ClassLabel`).
public struct LabelEncoding: Sendable, Equatable {
    /// Class names in id order.
    public var classNames: [String]

    /// Names as given, or, when nil, the distinct values of `values` sorted (integers numerically).
    public init(values: [String], classNames: [String]? = nil) {
        if let classNames { self.classNames = classNames; return }
        let distinct = Array(Set(values))
        if distinct.allSatisfy({ Int($0) != nil }) { self.classNames = distinct.sorted { Int($0)! < Int($1)! } }
        else { self.classNames = distinct.sorted() }
    }

    public var label2id: [String: Int] { Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) }) }
    public var id2label: [Int: String] { Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($0, $1) }) }

    /// Ids of `values`; an unknown value is an error naming it (and its row).
    public func encode(_ values: [String], source: String = "dataset") throws -> [Int] {
        let map = label2id
        return try values.enumerated().map { i, v in
            guard let id = map[v] else { throw DatasetError.unknownLabel(path: source, line: i + 1, label: v, known: classNames) }
            return id
        }
    }
}
