import VerdictJSON

/// The OpenAPI 3 description of every route, served at `GET /openapi.json` (and TEI's
/// `/api-doc/openapi.json`). Request and response schemas are those of text-embeddings-inference.
enum OpenAPIDocument {
    static let value: JSONValue = .object([
        ("openapi", .string("3.0.3")),
        ("info", .object([("title", .string("Verdict")), ("description", .string("Text classification, reranking and embeddings; text-embeddings-inference-compatible routes.")),
                          ("version", .string("1"))])),
        ("paths", .object([
            post("/predict", "Labels and scores of one input, one pair, or a batch", request: object([
                ("inputs", oneOf([string, array(string), array(array(string))])), ("truncate", nullableBoolean),
                ("truncation_direction", truncationDirection), ("raw_scores", boolean)], required: ["inputs"]),
                 response: oneOf([array(prediction), array(array(prediction))])),
            post("/rerank", "Texts ranked by relevance to a query (single-output classifiers)", request: object([
                ("query", string), ("texts", array(string)), ("truncate", nullableBoolean), ("truncation_direction", truncationDirection),
                ("raw_scores", boolean), ("return_text", boolean)], required: ["query", "texts"]),
                 response: array(object([("index", integer), ("text", string), ("score", number)], required: ["index", "score"]))),
            post("/embed", "One pooled vector per input (base encoders)", request: object([
                ("inputs", oneOf([string, array(integer), array(oneOf([string, array(integer)]))])), ("truncate", nullableBoolean),
                ("truncation_direction", truncationDirection), ("normalize", boolean), ("dimensions", integer)], required: ["inputs"]),
                 response: array(array(number))),
            post("/tokenize", "Tokens with ids and UTF-8 byte offsets", request: object([
                ("inputs", oneOf([string, array(string)])), ("add_special_tokens", boolean)], required: ["inputs"]),
                 response: array(array(object([("id", integer), ("text", string), ("special", boolean), ("start", nullableInteger), ("stop", nullableInteger)],
                                              required: ["id", "text", "special", "start", "stop"])))),
            post("/decode", "Text of token ids", request: object([
                ("ids", oneOf([array(integer), array(array(integer))])), ("skip_special_tokens", boolean)], required: ["ids"]),
                 response: array(string)),
            post("/", "The model's own task: /predict, /rerank or /embed", request: .object([]), response: .object([])),
            post("/invocations", "The model's own task (SageMaker): /predict, /rerank or /embed", request: .object([]), response: .object([])),
            get("/info", "The model and the server's limits", response: .object([("type", .string("object"))])),
            get("/health", "200 while the server serves", response: nil),
            get("/metrics", "Prometheus metrics", response: nil),
            get("/openapi.json", "This document", response: .object([("type", .string("object"))])),
        ])),
        ("components", .object([("schemas", .object([("ErrorResponse", object([("error", string), ("error_type", .object([
            ("type", .string("string")), ("enum", .array(["Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer", "Empty"].map { .string($0) })),
        ]))], required: ["error", "error_type"]))]))])),
    ])

    private static let string: JSONValue = .object([("type", .string("string"))])
    private static let integer: JSONValue = .object([("type", .string("integer")), ("minimum", .int(0))])
    private static let number: JSONValue = .object([("type", .string("number"))])
    private static let boolean: JSONValue = .object([("type", .string("boolean"))])
    private static let nullableBoolean: JSONValue = .object([("type", .string("boolean")), ("nullable", .bool(true))])
    private static let nullableInteger: JSONValue = .object([("type", .string("integer")), ("nullable", .bool(true))])
    private static let truncationDirection: JSONValue = .object([("type", .string("string")), ("enum", .array(["Right", "Left", "right", "left"].map { .string($0) }))])
    private static let prediction = object([("score", number), ("label", string)], required: ["score", "label"])

    private static func array(_ items: JSONValue) -> JSONValue { .object([("type", .string("array")), ("items", items)]) }
    private static func oneOf(_ options: [JSONValue]) -> JSONValue { .object([("oneOf", .array(options))]) }
    private static func object(_ properties: [(String, JSONValue)], required: [String]) -> JSONValue {
        .object([("type", .string("object")), ("properties", .object(properties)), ("required", .array(required.map { .string($0) }))])
    }

    private static let errors: [(String, JSONValue)] = [
        ("400", "Empty input or a body that is not JSON"), ("401", "Missing or wrong API key (empty body)"), ("413", "Body over the payload limit"),
        ("415", "Body not declared as application/json"), ("422", "Validation or tokenizer error"), ("424", "The model cannot serve this route"),
        ("429", "Overloaded: retry after the Retry-After header's seconds"), ("503", "Shutting down"),
    ].map { code, description in
        (code, .object([("description", .string(description)),
                        ("content", .object([("application/json", .object([("schema", .object([("$ref", .string("#/components/schemas/ErrorResponse"))]))]))]))]))
    }

    private static func post(_ path: String, _ summary: String, request: JSONValue, response: JSONValue) -> (String, JSONValue) {
        (path, .object([("post", .object([
            ("summary", .string(summary)),
            ("requestBody", .object([("required", .bool(true)), ("content", .object([("application/json", .object([("schema", request)]))]))])),
            ("responses", .object([("200", .object([("description", .string("OK")),
                                                   ("content", .object([("application/json", .object([("schema", response)]))]))]))] + errors)),
        ]))]))
    }

    private static func get(_ path: String, _ summary: String, response: JSONValue?) -> (String, JSONValue) {
        let ok: JSONValue = .object([("description", .string("OK"))] + (response.map { [("content", .object([("application/json", .object([("schema", $0)]))]))] } ?? []))
        return (path, .object([("get", .object([("summary", .string(summary)), ("responses", .object([("200", ok)]))]))]))
    }
}
