import Foundation
import VerdictJSON

/// One input of `/predict`: a text, or a pair of texts for sentence-pair models.
struct PredictInput: Equatable, Sendable {
    var text: String
    var pair: String?
}

/// The body of `POST /predict`, as text-embeddings-inference reads it.
///
/// `inputs` is a string (one input), an array of one or two strings (one input; two strings are
/// a *pair*), or an array of such arrays (a batch: `[["a"], ["b", "c"]]`).
struct PredictRequest: Sendable {
    var inputs: [PredictInput]
    /// Whether `inputs` was a batch (the response is then an array per input).
    var isBatch: Bool
    var truncate: Bool?
    var rawScores: Bool

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        guard let inputs = root["inputs"] else { throw ServerError.invalid("missing field `inputs` at $") }
        switch inputs.value {
        case .string(let text):
            self.inputs = [PredictInput(text: text)]
            isBatch = false
        case .array(let items):
            guard let first = items.first else { throw ServerError.invalid("`inputs` cannot be empty") }
            if case .array = first {
                self.inputs = try inputs.array().map { try Self.sequence($0) }
                isBatch = true
            } else {
                self.inputs = [try Self.sequence(inputs)]
                isBatch = false
            }
        default:
            throw ServerError.invalid(
                "\(inputs.path): expected a string, a pair of strings [string, string] or a batch [[string], [string, string], ...]")
        }
        truncate = try RequestBody.optionalBool(root, "truncate")
        rawScores = try RequestBody.optionalBool(root, "raw_scores") ?? false
    }

    /// `[text]` or `[text, pair]`.
    private static func sequence(_ node: JSONNode) throws -> PredictInput {
        let items = try RequestBody.strings(node)
        switch items.count {
        case 1: return PredictInput(text: items[0])
        case 2: return PredictInput(text: items[0], pair: items[1])
        default: throw ServerError.invalid("\(node.path): expected one string or a pair of strings, got \(items.count) strings")
        }
    }
}

/// The body of `POST /tokenize`: `inputs` is a string or an array of strings.
struct TokenizeRequest: Sendable {
    var inputs: [String]
    var addSpecialTokens: Bool

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        guard let inputs = root["inputs"] else { throw ServerError.invalid("missing field `inputs` at $") }
        if case .string(let text) = inputs.value {
            self.inputs = [text]
        } else {
            self.inputs = try RequestBody.strings(inputs)
            if self.inputs.isEmpty { throw ServerError.invalid("`inputs` cannot be empty") }
        }
        addSpecialTokens = try RequestBody.optionalBool(root, "add_special_tokens") ?? true
    }
}

/// Parsing helpers that turn JSON problems into 422 errors naming the JSON path.
enum RequestBody {
    static func parse(_ body: Data) throws -> JSONNode {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw ServerError.invalid("the body is not valid JSON: \(error)")
        }
        let root = JSONNode(value: value, path: "$", file: "request body")
        guard case .object = value else { throw ServerError.invalid("the body must be a JSON object") }
        return root
    }

    static func strings(_ node: JSONNode) throws -> [String] {
        guard case .array = node.value else { throw ServerError.invalid("\(node.path): expected an array of strings") }
        return try node.array().map { item in
            guard let s = item.stringValue else { throw ServerError.invalid("\(item.path): expected a string") }
            return s
        }
    }

    static func optionalBool(_ root: JSONNode, _ key: String) throws -> Bool? {
        guard let node = root[key], !node.isNull else { return nil }
        guard case .bool(let b) = node.value else { throw ServerError.invalid("\(node.path): expected true or false") }
        return b
    }
}
