import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import VerdictPipelines
@testable import VerdictServer

/// The server on a real socket (127.0.0.1, a free port), driven over HTTP; expected scores are
/// those `transformers`' pipeline produced for the same tiny classifier
/// (Fixtures/models/tiny-classifiers.golden.json, tools/make_model_fixtures.py).
final class ServerTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let model = root.appendingPathComponent("Fixtures/models/tiny-bert-safetensors-fp32")

    override func setUp() {
        setenv("LOG_LEVEL", "critical", 1)  // stopping the server by cancelling its task logs errors
    }

    /// Unchecked: `json` and `headers` are immutable values parsed from one response, only read after it.
    struct Reply: @unchecked Sendable {
        let status: Int
        let json: Any?
        let headers: [AnyHashable: Any]
        let text: String
    }

    /// Starts a server, runs `body` with its base URL, then stops it.
    private func withServer(_ configure: (inout ServerConfiguration) -> Void = { _ in },
                            _ body: (URL, ClassificationServer) async throws -> Void) async throws {
        var settings = ServerConfiguration()
        settings.port = 0
        settings.modelID = "tiny-bert"
        configure(&settings)
        let server = ClassificationServer(pipeline: try TextClassificationPipeline(model: Self.model.path), configuration: settings)
        let ready = AsyncStream<Int>.makeStream()
        let running = Task { try await server.run { ready.continuation.yield($0) } }
        var iterator = ready.stream.makeAsyncIterator()
        guard let port = await iterator.next() else { return XCTFail("the server did not start") }
        defer { running.cancel() }
        try await body(URL(string: "http://127.0.0.1:\(port)")!, server)
    }

    private static func call(_ base: URL, _ path: String, body: String? = nil) async throws -> Reply {
        var request = URLRequest(url: base.appendingPathComponent(path))
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return Reply(status: http.statusCode, json: try? JSONSerialization.jsonObject(with: data),
                     headers: http.allHeaderFields, text: String(decoding: data, as: UTF8.self))
    }

    private func golden() throws -> [String: Any] {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Fixtures/models/tiny-classifiers.golden.json"))
        let all = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(all["tiny-bert-safetensors-fp32"] as? [String: Any])
    }

    private func assertScores(_ got: Any?, _ expected: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) {
        guard let got = got as? [[String: Any]] else { return XCTFail("not a list of scores: \(String(describing: got))", file: file, line: line) }
        XCTAssertEqual(got.map { $0["label"] as? String }, expected.map { $0["label"] as? String }, file: file, line: line)
        for (g, e) in zip(got, expected) {
            XCTAssertEqual(g["score"] as? Double ?? .nan, e["score"] as? Double ?? .infinity, accuracy: 1e-5, file: file, line: line)
        }
    }

    func testPredictMatchesTransformersPipeline() async throws {
        let golden = try golden()
        let texts = try XCTUnwrap(golden["texts"] as? [String])
        let expected = try XCTUnwrap((golden["scores"] as? [String: Any])?["default"] as? [[[String: Any]]])
        // `transformers`' pipeline truncates; the server does when asked (or with `autoTruncate`).
        try await withServer({ $0.autoTruncate = true; $0.maxClientBatchSize = texts.count }) { base, _ in
            // One text.
            let single = try await Self.call(base, "/predict", body: Self.json(["inputs": texts[0]]))
            XCTAssertEqual(single.status, 200, single.text)
            assertScores(single.json, expected[0])
            XCTAssertNotNil(single.headers["x-compute-tokens"] ?? single.headers["X-Compute-Tokens"])
            // A batch: one array of scores per input, in order.
            let batch = try await Self.call(base, "/predict", body: Self.json(["inputs": texts.map { [$0] }]))
            XCTAssertEqual(batch.status, 200, batch.text)
            let rows = try XCTUnwrap(batch.json as? [Any])
            XCTAssertEqual(rows.count, texts.count)
            for (row, e) in zip(rows, expected) { assertScores(row, e) }
            // Concurrent requests (batched together by the worker) get their own results.
            try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
                for (i, text) in texts.enumerated() {
                    group.addTask { (i, try await Self.call(base, "/predict", body: Self.json(["inputs": text]))) }
                }
                for try await (i, reply) in group {
                    XCTAssertEqual(reply.status, 200, reply.text)
                    assertScores(reply.json, expected[i])
                }
            }
        }
    }

    func testPairsAndRawScoresMatchTransformersLogits() async throws {
        let golden = try golden()
        let pairs = try XCTUnwrap(golden["pairs"] as? [[String]])
        let pairLogits = try XCTUnwrap(golden["pair_logits"] as? [[Double]])
        let labels = ["negative", "neutral", "positive"]
        try await withServer { base, _ in
            // Two strings are one pair (TEI's convention); raw_scores returns logits, best first.
            // The reference truncated the pair to the model's 64 positions (longest first), so ask for it.
            let reply = try await Self.call(base, "/predict", body: Self.json(["inputs": pairs[0], "raw_scores": true, "truncate": true]))
            XCTAssertEqual(reply.status, 200, reply.text)
            let expected = zip(labels, pairLogits[0]).sorted { $0.1 > $1.1 }.map { ["label": $0.0, "score": $0.1] as [String: Any] }
            assertScores(reply.json, expected)
        }
    }

    func testBadRequestsGetClearErrors() async throws {
        try await withServer({ $0.maxClientBatchSize = 2; $0.maxRequestBytes = 4096 }) { base, _ in
            func expectError(_ body: String, _ status: Int, _ type: String, containing fragment: String) async throws {
                let reply = try await Self.call(base, "/predict", body: body)
                XCTAssertEqual(reply.status, status, body)
                let object = reply.json as? [String: Any]
                XCTAssertEqual(object?["error_type"] as? String, type, reply.text)
                XCTAssertTrue((object?["error"] as? String ?? "").contains(fragment), "\(reply.text) lacks \(fragment)")
            }
            try await expectError("{\"inputs\": ", 422, "validation", containing: "not valid JSON")
            try await expectError("[1]", 422, "validation", containing: "JSON object")
            try await expectError("{\"text\": \"hi\"}", 422, "validation", containing: "`inputs`")
            try await expectError("{\"inputs\": 3}", 422, "validation", containing: "$.inputs")
            try await expectError("{\"inputs\": [[\"a\"], [1]]}", 422, "validation", containing: "$.inputs[1][0]")
            try await expectError("{\"inputs\": [\"a\", \"b\", \"c\"]}", 422, "validation", containing: "pair")
            try await expectError("{\"inputs\": []}", 422, "validation", containing: "empty")
            try await expectError("{\"inputs\": \"a\", \"truncate\": \"yes\"}", 422, "validation", containing: "$.truncate")
            try await expectError("{\"inputs\": [[\"a\"], [\"b\"], [\"c\"]]}", 413, "validation", containing: "batch size 3")
            let long = String(repeating: "word ", count: 100)
            try await expectError(Self.json(["inputs": long]), 413, "validation", containing: "at most 64 tokens")
            try await expectError(Self.json(["inputs": String(repeating: "x", count: 5000)]), 413, "validation", containing: "larger than 4096")
            // The same long text is accepted when truncation is asked for.
            let truncated = try await Self.call(base, "/predict", body: Self.json(["inputs": long, "truncate": true]))
            XCTAssertEqual(truncated.status, 200, truncated.text)
            // Unknown routes and methods.
            let missing = try await Self.call(base, "/nothing")
            XCTAssertEqual(missing.status, 404)
        }
    }

    func testOverloadedQueueRefusesWith429() async throws {
        try await withServer({ $0.maxQueuedInputs = 1 }) { base, _ in
            let reply = try await Self.call(base, "/predict", body: Self.json(["inputs": [["a"], ["b"]]]))
            XCTAssertEqual(reply.status, 429, reply.text)
            XCTAssertEqual((reply.json as? [String: Any])?["error_type"] as? String, "overloaded")
        }
    }

    func testTokenizeInfoHealthAndMetrics() async throws {
        try await withServer { base, server in
            let text = "Café costs €3 🙂"
            let reply = try await Self.call(base, "/tokenize", body: Self.json(["inputs": text]))
            XCTAssertEqual(reply.status, 200, reply.text)
            let tokens = try XCTUnwrap((reply.json as? [[[String: Any]]])?.first)
            let encoding = try server.pipeline.tokenizer.encode(text)
            XCTAssertEqual(tokens.map { $0["id"] as? Int }, encoding.ids.map { $0 })
            let utf8 = Array(text.utf8)
            for token in tokens {
                if token["special"] as? Bool == true {
                    XCTAssertTrue(token["start"] is NSNull, "\(token)")
                    continue
                }
                let start = try XCTUnwrap(token["start"] as? Int), stop = try XCTUnwrap(token["stop"] as? Int)
                XCTAssertEqual(token["text"] as? String, String(decoding: utf8[start..<stop], as: UTF8.self))
            }
            let health = try await Self.call(base, "/health")
            XCTAssertEqual(health.status, 200)
            let info = try await Self.call(base, "/info")
            let object = try XCTUnwrap(info.json as? [String: Any])
            XCTAssertEqual(object["max_input_length"] as? Int, 64)
            XCTAssertEqual(object["model_id"] as? String, "tiny-bert")
            let classifier = (object["model_type"] as? [String: Any])?["classifier"] as? [String: Any]
            XCTAssertEqual(classifier?["id2label"] as? [String: String], ["0": "negative", "1": "neutral", "2": "positive"])
            _ = try await Self.call(base, "/predict", body: Self.json(["inputs": [["a"], ["b"]]]))
            let metrics = try await Self.call(base, "/metrics")
            XCTAssertTrue(metrics.text.contains("verdict_requests_total{route=\"/predict\",status=\"200\"} 1"), metrics.text)
            XCTAssertTrue(metrics.text.contains("verdict_inputs_total 2"), metrics.text)
            XCTAssertTrue(metrics.text.contains("verdict_batched_inputs_total 2"), metrics.text)
        }
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }
}
