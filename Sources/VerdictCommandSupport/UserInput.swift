import ArgumentParser
import Foundation

/// The candidate closest to `word` by edit distance, when it is close enough to be a misspelling
/// (at most a third of the word's letters differ): for "did you mean …?" hints.
package func nearest(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() { current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)) }
            previous = current
        }
        return previous[b.count]
    }
    let w = Array(word.lowercased())
    let best = candidates.map { ($0, distance(w, Array($0.lowercased()))) }.min { $0.1 < $1.1 }
    guard let best, best.1 <= max(2, w.count / 3) else { return nil }
    return best.0
}

/// Class names as a user gives them (`--labels a,b,c`, a recipe's `labels`): each trimmed, none
/// empty, none repeated, at least two. `flag` names the source in the error.
package func classNames(_ names: [String], flag: String) throws -> [String] {
    let trimmed = names.map { $0.trimmingCharacters(in: .whitespaces) }
    if let empty = trimmed.firstIndex(of: "") {
        throw ValidationError("\(flag): label \(empty + 1) of \(trimmed.count) is empty (got \"\(names.joined(separator: ","))\"); name every class")
    }
    var seen = Set<String>()
    if let repeated = trimmed.first(where: { !seen.insert($0).inserted }) {
        throw ValidationError("\(flag): \"\(repeated)\" is named twice; each class needs a name of its own")
    }
    guard trimmed.count >= 2 else {
        throw ValidationError("\(flag): a classifier needs at least two classes (got \(trimmed.map { "\"\($0)\"" }.joined(separator: ", ")))")
    }
    return trimmed
}

/// A JSON decoding error as a user reads it: the file, the key and what was expected.
package func describe(_ error: DecodingError, file: String) -> String {
    func key(_ path: [CodingKey]) -> String {
        path.isEmpty ? "the top level" : "\"" + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "\""
    }
    func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Float.Type, is Double.Type: return "a number"
        case is [String].Type: return "a list of strings"
        default: return "one of the allowed values"
        }
    }
    switch error {
    case let .typeMismatch(type, context):
        return "\(file): \(key(context.codingPath)) must be \(typeName(type))"
    case let .valueNotFound(type, context):
        return "\(file): \(key(context.codingPath)) must be \(typeName(type)), not null"
    case let .keyNotFound(missing, context):
        return "\(file): \(key(context.codingPath + [missing])) is required"
    case let .dataCorrupted(context):
        if context.codingPath.isEmpty { return "\(file): not valid JSON (\(context.debugDescription))" }
        return "\(file): \(key(context.codingPath)) has a value that is not allowed (\(context.debugDescription))"
    @unknown default:
        return "\(file): \(error.localizedDescription)"
    }
}
