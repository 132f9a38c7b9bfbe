import Foundation
import VerdictJSON
import VerdictTokenizers

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
    var truncationSide: Side
    var rawScores: Bool

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        let inputs = try RequestBody.required(root, "inputs")
        let shapes = "expected a string, a pair of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]"
        switch inputs.value {
        case .string(let text):
            self.inputs = [PredictInput(text: text)]
            isBatch = false
        case .array(let items):
            guard let first = items.first else { throw ServerError.validation("\(inputs.path): invalid length 0, \(shapes)") }
            if case .array = first {
                self.inputs = try inputs.array().map { try Self.sequence($0, shapes) }
                isBatch = true
            } else {
                self.inputs = [try Self.sequence(inputs, shapes)]
                isBatch = false
            }
        default:
            throw ServerError.validation("\(inputs.path): \(shapes)")
        }
        truncate = try RequestBody.optionalBool(root, "truncate")
        rawScores = try RequestBody.optionalBool(root, "raw_scores") ?? false
        truncationSide = try RequestBody.truncationSide(root)
    }

    /// `[text]` or `[text, pair]`.
    private static func sequence(_ node: JSONNode, _ shapes: String) throws -> PredictInput {
        let items = try RequestBody.strings(node)
        switch items.count {
        case 1: return PredictInput(text: items[0])
        case 2: return PredictInput(text: items[0], pair: items[1])
        default: throw ServerError.validation("\(node.path): invalid length \(items.count), \(shapes)")
        }
    }
}

/// The body of `POST /rerank`: a query and the texts to rank against it.
struct RerankRequest: Sendable {
    var query: String
    var texts: [String]
    var truncate: Bool?
    var truncationSide: Side
    var rawScores: Bool
    var returnText: Bool

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        guard let query = try RequestBody.required(root, "query").stringValue else { throw ServerError.validation("$.query: expected a string") }
        self.query = query
        texts = try RequestBody.strings(try RequestBody.required(root, "texts"))
        truncate = try RequestBody.optionalBool(root, "truncate")
        rawScores = try RequestBody.optionalBool(root, "raw_scores") ?? false
        returnText = try RequestBody.optionalBool(root, "return_text") ?? false
        truncationSide = try RequestBody.truncationSide(root)
    }
}

/// One input of `/embed`: a text, or token ids (TEI decodes them and encodes the text again
/// without adding special tokens).
enum EmbedInput: Equatable, Sendable {
    case text(String)
    case ids([Int])
}

/// The body of `POST /embed`: `inputs` is a string, an array of token ids (one input), or an
/// array of strings and id arrays (a batch); the answer is always one vector per input.
struct EmbedRequest: Sendable {
    var inputs: [EmbedInput]
    var truncate: Bool?
    var truncationSide: Side
    var normalize: Bool
    var dimensions: Int?

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        let inputs = try RequestBody.required(root, "inputs")
        switch inputs.value {
        case .string(let text): self.inputs = [.text(text)]
        case .array(let items) where items.allSatisfy({ if case .number = $0 { return true }; return false }):
            self.inputs = [.ids(try RequestBody.ids(inputs))]   // `[]` too: one empty input, as TEI reads it
        case .array:
            self.inputs = try inputs.array().map { item in
                if let text = item.stringValue { return .text(text) }
                guard case .array = item.value else { throw ServerError.validation("\(item.path): expected a string or an array of token ids") }
                return .ids(try RequestBody.ids(item))
            }
        default:
            throw ServerError.validation("\(inputs.path): expected a string, an array of token ids, or an array of those")
        }
        truncate = try RequestBody.optionalBool(root, "truncate")
        normalize = try RequestBody.optionalBool(root, "normalize") ?? true
        if let node = root["dimensions"] {
            guard let d = try? node.int(), d >= 0 else { throw ServerError.validation("\(node.path): expected a non-negative integer") }
            dimensions = d
        }
        truncationSide = try RequestBody.truncationSide(root)
    }
}

/// The body of `POST /tokenize`: `inputs` is a string or an array of strings.
struct TokenizeRequest: Sendable {
    var inputs: [String]
    var addSpecialTokens: Bool

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        let inputs = try RequestBody.required(root, "inputs")
        if case .string(let text) = inputs.value {
            self.inputs = [text]
        } else {
            self.inputs = try RequestBody.strings(inputs)
            if self.inputs.isEmpty { throw ServerError.empty("`inputs` cannot be empty") }
        }
        addSpecialTokens = try RequestBody.optionalBool(root, "add_special_tokens") ?? true
    }
}

/// The body of `POST /decode`: `ids` is one array of token ids or an array of them.
struct DecodeRequest: Sendable {
    var ids: [[Int]]
    var skipSpecialTokens: Bool

    init(body: Data) throws {
        let root = try RequestBody.parse(body)
        let ids = try RequestBody.required(root, "ids")
        guard case .array(let items) = ids.value else { throw ServerError.validation("\(ids.path): expected an array of token ids or an array of those") }
        if let first = items.first, case .array = first {
            self.ids = try ids.array().map(RequestBody.ids)
        } else {
            self.ids = [try RequestBody.ids(ids)]
        }
        skipSpecialTokens = try RequestBody.optionalBool(root, "skip_special_tokens") ?? true
    }
}

/// Parsing helpers that turn JSON problems into TEI's errors naming the JSON path: 400 for a body
/// that is not JSON, 422 for JSON of the wrong shape.
enum RequestBody {
    static func parse(_ body: Data) throws -> JSONNode {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw ServerError.malformedBody("Failed to parse the request body as JSON: \(error)")
        }
        let root = JSONNode(value: value, path: "$", file: "request body")
        guard case .object = value else { throw ServerError.validation("$: expected a JSON object") }
        return root
    }

    static func required(_ root: JSONNode, _ key: String) throws -> JSONNode {
        guard let node = root[key] else { throw ServerError.validation("missing field `\(key)` at $") }
        return node
    }

    static func strings(_ node: JSONNode) throws -> [String] {
        guard case .array = node.value else { throw ServerError.validation("\(node.path): expected an array of strings") }
        return try node.array().map { item in
            guard let s = item.stringValue else { throw ServerError.validation("\(item.path): expected a string") }
            return s
        }
    }

    /// Token ids: integers in 0..<2^32 (TEI's `u32`).
    static func ids(_ node: JSONNode) throws -> [Int] {
        guard case .array = node.value else { throw ServerError.validation("\(node.path): expected an array of token ids") }
        return try node.array().map { item in
            guard let id = try? item.int(), (0..<(1 << 32)).contains(id) else { throw ServerError.validation("\(item.path): expected a token id (an integer from 0 to 4294967295)") }
            return id
        }
    }

    static func optionalBool(_ root: JSONNode, _ key: String) throws -> Bool? {
        guard let node = root[key], !node.isNull else { return nil }
        guard case .bool(let b) = node.value else { throw ServerError.validation("\(node.path): expected true or false") }
        return b
    }

    /// `truncation_direction`: `Right` (the default) or `Left`, lowercase accepted, as in TEI.
    static func truncationSide(_ root: JSONNode) throws -> Side {
        guard let node = root["truncation_direction"] else { return .right }
        switch node.stringValue {
        case "Right", "right": return .right
        case "Left", "left": return .left
        default: throw ServerError.validation("\(node.path): expected \"Right\" or \"Left\"")
        }
    }
}
