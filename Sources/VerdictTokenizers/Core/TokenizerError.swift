import VerdictJSON

/// Errors raised while loading or running a tokenizer.
///
/// Every case names where the problem is (file, JSON path) and what was expected, so a user
/// can fix the input without reading Verdict's source.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A file is not valid JSON.
    case malformedJSON(file: String, reason: String)
    /// A JSON value has the wrong shape: `path` is a JSON path such as `$.model.vocab`.
    case invalidValue(file: String, path: String, expected: String)
    /// A component's `"type"` is not one Verdict knows.
    case unknownComponent(file: String, path: String, type: String, known: [String])
    /// The folder holds no file a tokenizer can be built from.
    case noTokenizerFiles(folder: String)
    /// A token that must exist (unknown token, special token) is not in the vocabulary.
    case missingToken(String, role: String)
    /// An argument combination that cannot be honoured.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformedJSON(file, reason):
            return "\(file) is not valid JSON: \(reason)"
        case let .invalidValue(file, path, expected):
            return "\(file): \(path): expected \(expected)"
        case let .unknownComponent(file, path, type, known):
            return "\(file): \(path): unknown type \"\(type)\" (known: \(known.joined(separator: ", ")))"
        case let .noTokenizerFiles(folder):
            return "\(folder) holds no tokenizer.json, vocab.txt, or vocab.json + merges.txt"
        case let .missingToken(token, role):
            return "the \(role) token \"\(token)\" is not in the vocabulary"
        case let .invalidArgument(message):
            return message
        }
    }
}

extension TokenizerError {
    /// Runs `body`, reporting JSON shape errors as the equivalent tokenizer errors.
    static func mappingJSONErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as JSONError {
            switch e {
            case let .malformed(file, reason): throw TokenizerError.malformedJSON(file: file, reason: reason)
            case let .invalidValue(file, path, expected): throw TokenizerError.invalidValue(file: file, path: path, expected: expected)
            }
        }
    }
}
