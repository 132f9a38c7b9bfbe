import Foundation
import XCTest
import VerdictPipelines
@testable import VerdictServer

/// `/predict`, `/tokenize`, `/info`, `/health` and `/metrics` of a classifier; expected scores are
/// those `transformers`' pipeline produced for the same tiny classifier
/// (Fixtures/models/tiny-classifiers.golden.json, tools/make_model_fixtures.py).
final class ServerTests: XCTestCase {
    private func golden() throws -> [String: Any] { try TestServer.golden("models/tiny-classifiers.golden.json", "tiny-bert-safetensors-fp32") }

    private func assertScores(_ got: Any?, _ expected: [[String: Any]], file: StaticString = #filePath, line: UInt = #line) {
        guard let got = got as? [[String: Any]] else { return XCTFail("not a list of scores: \(String(describing: got))", file: file, line: line) }
        XCTAssertEqual(got.map { $0["label"] as? String }, expected.map { $0["label"] as? String }, file: file, line: line)
        for (g, e) in zip(got, expected) {
            XCTAssertEqual(g["score"] as? Double ?? .nan, e["score"] as? Double ?? .infinity, accuracy: 1e-5, file: file, line: line)
        }
    }

    func testPredictMatchesTransformersPipeline() async throws {
        let golden = try golden()
        // TEI refuses empty texts (400, ErrorContractTests); the others must score as in `transformers`.
        let all = try XCTUnwrap(golden["texts"] as? [String])
        let kept = all.indices.filter { !all[$0].isEmpty }
        let texts = kept.map { all[$0] }
        let expected = try XCTUnwrap((golden["scores"] as? [String: Any])?["default"] as? [[[String: Any]]]).enumerated().filter { kept.contains($0.offset) }.map(\.element)
        // `transformers`' pipeline truncates, as the server does by default (TEI's --auto-truncate).
        try await TestServer.with(configure: { $0.maxClientBatchSize = texts.count }) { base, _ in
            let single = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": texts[0]]))
            XCTAssertEqual(single.status, 200, single.text)
            assertScores(single.json, expected[0])
            for name in ["x-compute-type", "x-compute-time", "x-compute-characters", "x-compute-tokens", "x-total-time",
                         "x-tokenization-time", "x-queue-time", "x-inference-time"] {
                XCTAssertNotNil(single.header(name), name)
            }
            XCTAssertEqual(single.header("x-compute-characters"), String(texts[0].unicodeScalars.count))
            // A batch: one list per input, in order.
            let batch = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": texts.map { [$0] }]))
            XCTAssertEqual(batch.status, 200, batch.text)
            let lists = try XCTUnwrap(batch.json as? [Any])
            XCTAssertEqual(lists.count, texts.count)
            for (got, want) in zip(lists, expected) { assertScores(got, want) }
            // `POST /` routes a classifier's body to /predict.
            let root = try await TestServer.call(base, "/", body: TestServer.json(["inputs": texts[0]]))
            assertScores(root.json, expected[0])
            let invocations = try await TestServer.call(base, "/invocations", body: TestServer.json(["inputs": texts[0]]))
            assertScores(invocations.json, expected[0])
        }
    }

    func testPairsAndRawScoresMatchTransformersLogits() async throws {
        let golden = try golden()
        let pairs = try XCTUnwrap(golden["pairs"] as? [[String]])
        let pairLogits = try XCTUnwrap(golden["pair_logits"] as? [[Double]])
        let labels = ["negative", "neutral", "positive"]
        try await TestServer.with { base, _ in
            // Two strings are one pair (TEI's convention); raw_scores returns logits, best first.
            let reply = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": pairs[0], "raw_scores": true]))
            XCTAssertEqual(reply.status, 200, reply.text)
            let expected = zip(labels, pairLogits[0]).sorted { $0.1 > $1.1 }.map { ["label": $0.0, "score": $0.1] as [String: Any] }
            assertScores(reply.json, expected)
        }
    }

    func testTokenizeInfoHealthAndMetrics() async throws {
        try await TestServer.with { base, server in
            let text = "Café costs €3 🙂"
            let reply = try await TestServer.call(base, "/tokenize", body: TestServer.json(["inputs": text]))
            XCTAssertEqual(reply.status, 200, reply.text)
            let tokens = try XCTUnwrap((reply.json as? [[[String: Any]]])?.first)
            let encoding = try server.model.tokenizer.encode(text)
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
            for path in ["/health", "/", "/ping"] {
                let health = try await TestServer.call(base, path)
                XCTAssertEqual(health.status, 200, path)
            }
            let info = try await TestServer.call(base, "/info")
            let object = try XCTUnwrap(info.json as? [String: Any])
            XCTAssertEqual(object["max_input_length"] as? Int, 64)
            XCTAssertEqual(object["model_id"] as? String, "tiny-bert-safetensors-fp32")
            for field in ["model_sha", "model_dtype", "served_model_name", "max_concurrent_requests", "max_batch_tokens", "max_batch_requests",
                          "max_client_batch_size", "auto_truncate", "tokenization_workers", "version", "sha", "docker_label"] {
                XCTAssertTrue(object.keys.contains(field), "/info lacks \(field): \(info.text)")
            }
            XCTAssertEqual(object["max_batch_tokens"] as? Int, 16384)
            let classifier = (object["model_type"] as? [String: Any])?["classifier"] as? [String: Any]
            XCTAssertEqual(classifier?["id2label"] as? [String: String], ["0": "negative", "1": "neutral", "2": "positive"])
            XCTAssertEqual(classifier?["label2id"] as? [String: Int], ["negative": 0, "neutral": 1, "positive": 2])
            _ = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": [["a"], ["b"]]]))
            let metrics = try await TestServer.call(base, "/metrics")
            XCTAssertTrue(metrics.text.contains("verdict_requests_total{route=\"/predict\",status=\"200\"} 1"), metrics.text)
            XCTAssertTrue(metrics.text.contains("verdict_inputs_total 2"), metrics.text)
            XCTAssertTrue(metrics.text.contains("verdict_batched_inputs_total 2"), metrics.text)
        }
    }
}
