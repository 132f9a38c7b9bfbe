import Foundation
import XCTest
import VerdictTokenizers
@testable import VerdictServer

/// Every refusal with text-embeddings-inference's status, `error_type` and message
/// (router/src/http/server.rs and core/src/tokenization.rs; /work notes in docs/Server.md), and the
/// limits: payload size, queue size, token budget.
final class ErrorContractTests: XCTestCase {
    func expect(_ base: URL, _ path: String, _ body: String, _ status: Int, _ type: String, _ fragment: String,
                contentType: String? = "application/json", file: StaticString = #filePath, line: UInt = #line) async throws {
        let reply = try await TestServer.call(base, path, body: body, contentType: contentType)
        XCTAssertEqual(reply.status, status, "\(path) \(body.prefix(80))", file: file, line: line)
        XCTAssertEqual(reply.errorType, type, reply.text, file: file, line: line)
        XCTAssertTrue(reply.error.contains(fragment), "\(reply.text.prefix(300)) lacks \(fragment)", file: file, line: line)
    }

    func testClassifierRefusals() async throws {
        try await TestServer.with(configure: { $0.maxClientBatchSize = 2; $0.maxRequestBytes = 4096; $0.autoTruncate = false }) { base, _ in
            // Bodies that are not what the route reads.
            try await expect(base, "/predict", "{\"inputs\": ", 400, "Validation", "Failed to parse the request body as JSON")
            try await expect(base, "/predict", "{\"inputs\": \"a\"}", 415, "Validation", "Content-Type: application/json", contentType: "text/plain")
            try await expect(base, "/predict", "[1]", 422, "Validation", "JSON object")
            try await expect(base, "/predict", "{\"text\": \"hi\"}", 422, "Validation", "missing field `inputs`")
            try await expect(base, "/predict", "{\"inputs\": 3}", 422, "Validation", "$.inputs")
            try await expect(base, "/predict", "{\"inputs\": [[\"a\"], [1]]}", 422, "Validation", "$.inputs[1][0]")
            try await expect(base, "/predict", "{\"inputs\": [\"a\", \"b\", \"c\"]}", 422, "Validation", "invalid length 3")
            try await expect(base, "/predict", "{\"inputs\": []}", 422, "Validation", "invalid length 0")
            try await expect(base, "/predict", "{\"inputs\": \"a\", \"truncate\": \"yes\"}", 422, "Validation", "$.truncate")
            try await expect(base, "/predict", "{\"inputs\": \"a\", \"truncation_direction\": \"up\"}", 422, "Validation", "$.truncation_direction")
            // Empty inputs are 400 `Empty`.
            try await expect(base, "/predict", "{\"inputs\": \"\"}", 400, "Empty", "Input validation error: `inputs` cannot be empty")
            try await expect(base, "/tokenize", "{\"inputs\": []}", 400, "Empty", "`inputs` cannot be empty")
            try await expect(base, "/decode", "{\"ids\": []}", 400, "Empty", "`input_ids` cannot be empty")
            try await expect(base, "/rerank", "{\"query\": \"q\", \"texts\": []}", 400, "Empty", "`texts` cannot be empty")
            // Limits are 422 `Validation` (TEI ≥ 1.9; 413 before), the payload limit 413.
            try await expect(base, "/predict", "{\"inputs\": [[\"a\"], [\"b\"], [\"c\"]]}", 422, "Validation", "batch size 3 > maximum allowed batch size 2")
            try await expect(base, "/decode", "{\"ids\": [[1], [2], [3]]}", 422, "Validation", "batch size 3 > maximum allowed batch size 2")
            let long = String(repeating: "word ", count: 100)
            try await expect(base, "/predict", TestServer.json(["inputs": long]), 422, "Validation", "`inputs` must have less than 64 tokens. Given: 202")
            try await expect(base, "/predict", TestServer.json(["inputs": String(repeating: "x", count: 5000)]), 413, "Validation", "length limit exceeded")
            // The same long text is accepted when truncation is asked for, from either side.
            for side in ["Right", "left"] {
                let truncated = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": long, "truncate": true, "truncation_direction": side]))
                XCTAssertEqual(truncated.status, 200, truncated.text)
            }
            // Routes of other model types.
            try await expect(base, "/embed", "{\"inputs\": \"a\"}", 424, "Backend", "Backend error: Model is not an embedding model")
            try await expect(base, "/rerank", "{\"query\": \"q\", \"texts\": [\"a\"]}", 424, "Backend", "Backend error: model is not a re-ranker model")
            let missing = try await TestServer.call(base, "/nothing")
            XCTAssertEqual(missing.status, 404)
        }
    }

    func testCharacterLimitWithoutTruncationAndCutWithIt() async throws {
        try await TestServer.with(configure: { $0.autoTruncate = false; $0.maxClientBatchSize = 4 }) { base, server in
            // Without truncation a text over 250 characters per position is refused before tokenizing.
            let huge = String(repeating: "a ", count: 64 * 250)
            try await expect(base, "/predict", TestServer.json(["inputs": huge]), 422, "Validation", "must have less than 16000 characters. Given: 32000")
            try await expect(base, "/tokenize", TestServer.json(["inputs": huge]), 422, "Validation", "must have less than 16000 characters")
            // With it, a text cut to 64 characters per position scores as the whole text does.
            let whole = try server.model.tokenizer.encode(huge, options: .init(truncation: .longestFirst, maxLength: 64))
            let reply = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": huge, "truncate": true, "raw_scores": true]))
            XCTAssertEqual(reply.status, 200, reply.text)
            XCTAssertEqual(reply.header("x-compute-tokens"), String(whole.ids.count))
            guard case .classifier(let pipeline) = server.model else { return XCTFail("not a classifier") }
            let expected = pipeline.scores(try pipeline.logits(encodings: [whole]).scalars, functionToApply: .none, topK: .all)
            XCTAssertEqual((reply.json as? [[String: Any]])?.map { $0["label"] as? String }, expected.map(\.label))
            for (got, want) in zip(reply.json as? [[String: Any]] ?? [], expected) {
                XCTAssertEqual(got["score"] as? Double ?? .nan, Double(want.score), accuracy: 1e-6)
            }
        }
    }

    func testOverloadedQueueRefusesWith429AndRetryAfter() async throws {
        try await TestServer.with(configure: { $0.maxQueuedInputs = 1 }) { base, _ in
            let reply = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": [["a"], ["b"]]]))
            XCTAssertEqual(reply.status, 429, reply.text)
            XCTAssertEqual(reply.errorType, "Overloaded")
            XCTAssertTrue(reply.error.hasPrefix("Model is overloaded"), reply.text)
            XCTAssertEqual(reply.header("Retry-After"), "1")
        }
    }

    /// The queue itself, with every request announced before any arrives: passes fill up to the
    /// token budget and no further (24 inputs of 14 tokens, budget 56 → exactly 6 passes of 4).
    func testQueueFillsForwardPassesUpToTheTokenBudget() async throws {
        let model = try ServedModel.load(TestServer.classifier.path)
        let metrics = ServerMetrics()
        let queue = InferenceQueue(model: model, limits: .init(maxBatchInputs: 64, maxBatchTokens: 56, maxQueuedInputs: 512,
                                                               maxBatchWait: 10, requestTimeout: 60), metrics: metrics)
        defer { queue.shutdown() }
        let encoding = try model.tokenizer.encode("one two three four five six", options: TokenizationOptions())
        XCTAssertEqual(encoding.ids.count, 14)
        for _ in 0..<24 { queue.announce() }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<24 { group.addTask { try await queue.rows([encoding]).rows.count } }
            for try await rows in group { XCTAssertEqual(rows, 1) }
        }
        let text = metrics.render(waiting: 0)
        XCTAssertTrue(text.contains("verdict_batches_total 6\n") && text.contains("verdict_batched_inputs_total 24\n"), text)
    }

    func testARequestThatWaitedPastTheTimeoutIsRefusedWith429() async throws {
        // A timeout no request can meet: the worker refuses each one when it takes it from the queue.
        try await TestServer.with(configure: { $0.requestTimeout = 1e-9 }) { base, _ in
            let reply = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": "a"]))
            XCTAssertEqual(reply.status, 429, reply.text)
            XCTAssertTrue(reply.error.contains("waited more than"), reply.text)
            XCTAssertEqual(reply.header("Retry-After"), "1")
        }
    }

    func testConcurrentRequestsShareForwardPassesWithinTheTokenBudget() async throws {
        // 24 concurrent requests of 14 tokens with a budget of 56 tokens: never more than 4 per pass.
        // (How many share a pass depends on how the client sends them; the queue test above pins it.)
        try await TestServer.with(configure: { $0.maxBatchTokens = 56; $0.maxBatchWait = 0.02 }) { base, server in
            let text = "one two three four five six"
            XCTAssertEqual(try server.model.tokenizer.encode(text).ids.count, 14)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<24 { group.addTask { try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": text])).status } }
                for try await status in group { XCTAssertEqual(status, 200) }
            }
            let metrics = try await TestServer.call(base, "/metrics").text
            func value(_ name: String) -> Int { Int(metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }?.split(separator: " ").last ?? "") ?? -1 }
            XCTAssertEqual(value("verdict_batched_inputs_total"), 24)
            XCTAssertGreaterThanOrEqual(value("verdict_batches_total"), 6, metrics)
            // A request over the budget still runs, alone.
            let big = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": String(repeating: "word ", count: 40)]))
            XCTAssertEqual(big.status, 200, big.text)
        }
    }
}
