import Hummingbird
import VerdictJSON

/// A request the server refuses, with the status and the body text-embeddings-inference's router
/// sends: `{"error": "…", "error_type": "…"}`, `error_type` capitalised as TEI serialises it.
/// Refusals that TEI leaves to its HTTP framework (415, 413, malformed JSON) carry the same
/// statuses here, but a JSON body instead of plain text (see docs/Server.md).
enum ServerError: Error, Equatable {
    /// A request that breaks a rule: wrong shape, too long, batch too large (422 `Validation`).
    case validation(String)
    /// An empty input (400 `Empty`).
    case empty(String)
    /// The tokenizer could not encode an input (422 `Tokenizer`).
    case tokenizer(String)
    /// Too much work is waiting (429 `Overloaded`, with `Retry-After`).
    case overloaded(String)
    /// The served model cannot do what the route asks, or failed (424 `Backend`).
    case backend(String)
    /// The server is shutting down (503 `Unhealthy`).
    case unhealthy(String)
    /// The body is not JSON (400 `Validation`).
    case malformedBody(String)
    /// The body is larger than `--payload-limit` (413 `Validation`).
    case tooLarge(String)
    /// The body is not declared as JSON (415 `Validation`).
    case unsupportedMediaType
    /// `--api-key` is set and the request does not carry it (401, empty body, as in TEI).
    case unauthorized

    static let retryAfterSeconds = 1

    var status: HTTPResponse.Status {
        switch self {
        case .validation, .tokenizer: return .unprocessableContent
        case .empty, .malformedBody: return .badRequest
        case .overloaded: return .tooManyRequests
        case .backend: return HTTPResponse.Status(code: 424, reasonPhrase: "Failed Dependency")
        case .unhealthy: return .serviceUnavailable
        case .tooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .unauthorized: return .unauthorized
        }
    }

    var message: String {
        switch self {
        case .validation(let m), .empty(let m), .tokenizer(let m), .overloaded(let m), .backend(let m), .unhealthy(let m),
             .malformedBody(let m), .tooLarge(let m):
            return m
        case .unsupportedMediaType: return "Expected request with `Content-Type: application/json`"
        case .unauthorized: return ""
        }
    }

    var errorType: String {
        switch self {
        case .validation, .malformedBody, .tooLarge, .unsupportedMediaType, .unauthorized: return "Validation"
        case .empty: return "Empty"
        case .tokenizer: return "Tokenizer"
        case .overloaded: return "Overloaded"
        case .backend: return "Backend"
        case .unhealthy: return "Unhealthy"
        }
    }

    /// The response: the JSON error body (none for 401), `Retry-After` on 429.
    var response: Response {
        if self == .unauthorized { return Response(status: status) }
        var headers = HTTPFields()
        if case .overloaded = self { headers[.retryAfter] = String(Self.retryAfterSeconds) }
        return JSONResponse.make(.object([("error", .string(message)), ("error_type", .string(errorType))]), status: status, headers: headers)
    }
}

/// JSON bodies for responses.
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized())))
    }
}
