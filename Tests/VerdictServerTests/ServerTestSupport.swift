import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VerdictTestSupport
import XCTest
import VerdictPipelines
@testable import VerdictServer

/// A server on a real socket (127.0.0.1, a free port), driven over HTTP.
enum TestServer {
    static let root = Repository.root
    static let classifier = root.appendingPathComponent("Fixtures/models/tiny-bert-safetensors-fp32")
    static let reranker = root.appendingPathComponent("Fixtures/models/tiny-bert-regression")

    /// The all-MiniLM-L6-v2 folder (an embedding model): `$VERDICT_MINILM_DIR`, else where `tools/fetch_weights.sh` puts it.
    static func miniLM() throws -> URL { try Repository.miniLM() }

    /// Unchecked: `json` and `headers` are immutable values parsed from one response, only read after it.
    struct Reply: @unchecked Sendable {
        let status: Int
        let json: Any?
        let headers: [AnyHashable: Any]
        let text: String

        var errorType: String? { (json as? [String: Any])?["error_type"] as? String }
        var error: String { (json as? [String: Any])?["error"] as? String ?? "" }
        func header(_ name: String) -> String? {
            headers.first { ($0.key as? String)?.lowercased() == name.lowercased() }?.value as? String
        }
    }

    /// Starts a server for `model` (a folder), runs `body` with its base URL, then stops it.
    static func with(_ model: URL = classifier, configure: (inout ServerConfiguration) -> Void = { _ in },
                     _ body: (URL, InferenceServer) async throws -> Void) async throws {
        setenv("LOG_LEVEL", "critical", 1)  // stopping the server by cancelling its task logs errors
        var settings = ServerConfiguration()
        settings.port = 0
        settings.modelID = model.lastPathComponent
        configure(&settings)
        let server = InferenceServer(model: try ServedModel.load(model.path), configuration: settings)
        let ready = AsyncStream<Int>.makeStream()
        let running = Task { try await server.run { ready.continuation.yield($0) } }
        var iterator = ready.stream.makeAsyncIterator()
        guard let port = await iterator.next() else { return XCTFail("the server did not start") }
        defer { running.cancel() }
        try await body(URL(string: "http://127.0.0.1:\(port)")!, server)
    }

    /// A request; a body makes it a POST with `contentType`.
    static func call(_ base: URL, _ path: String, body: String? = nil, contentType: String? = "application/json",
                     headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: path == "/" ? base : base.appendingPathComponent(path))
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return Reply(status: http.statusCode, json: try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed),
                     headers: http.allHeaderFields, text: String(decoding: data, as: UTF8.self))
    }

    static func json(_ object: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    /// A member of a golden file under Fixtures/ (written by the script it names).
    static func golden(_ file: String, _ key: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("Fixtures").appendingPathComponent(file))
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(all[key] as? [String: Any], "\(key) in \(file)")
    }
}
