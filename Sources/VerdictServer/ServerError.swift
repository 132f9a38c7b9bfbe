import Hummingbird
import VerdictJSON

/// A request the server refuses, with the HTTP status and the `error_type` of
/// text-embeddings-inference's error body `{"error": "...", "error_type": "..."}`.
enum ServerError: Error, Equatable {
    /// The request is malformed or breaks a limit (413 or 422).
    case validation(String, status: HTTPResponse.Status)
    /// The tokenizer could not encode an input (422).
    case tokenizer(String)
    /// Too much work is queued (429).
    case overloaded(String)
    /// The server is shutting down (503).
    case unavailable(String)

    static func invalid(_ message: String) -> ServerError { .validation(message, status: .unprocessableContent) }
    static func tooLarge(_ message: String) -> ServerError { .validation(message, status: .contentTooLarge) }

    var status: HTTPResponse.Status {
        switch self {
        case .validation(_, let status): return status
        case .tokenizer: return .unprocessableContent
        case .overloaded: return .tooManyRequests
        case .unavailable: return .serviceUnavailable
        }
    }

    var message: String {
        switch self {
        case .validation(let m, _), .tokenizer(let m), .overloaded(let m), .unavailable(let m): return m
        }
    }

    var errorType: String {
        switch self {
        case .validation: return "validation"
        case .tokenizer: return "tokenizer"
        case .overloaded: return "overloaded"
        case .unavailable: return "unhealthy"
        }
    }

    /// The JSON error response.
    var response: Response {
        JSONResponse.make(.object([("error", .string(message)), ("error_type", .string(errorType))]), status: status)
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
