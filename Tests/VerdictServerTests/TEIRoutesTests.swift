import Foundation
import XCTest
@testable import VerdictServer

/// `/embed`, `/rerank`, `/decode`, `/openapi.json` and the API key, against references from Python
/// (Fixtures/server/tei-goldens.json, tools/make_server_fixtures.py) and the request/response
/// examples of text-embeddings-inference's own docs and tests.
final class TEIRoutesTests: XCTestCase {
    func assertVectors(_ got: Any?, _ expected: [[Double]], accuracy: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        guard let rows = got as? [[Double]] else { return XCTFail("not a list of vectors: \(String(describing: got).prefix(200))", file: file, line: line) }
        XCTAssertEqual(rows.map(\.count), expected.map(\.count), file: file, line: line)
        let worst = zip(rows, expected).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, accuracy, file: file, line: line)
    }

    func testEmbedMatchesSentenceTransformersPooling() async throws {
        let golden = try TestServer.golden("server/tei-goldens.json", "embed")
        let texts = try XCTUnwrap(golden["texts"] as? [String])
        let normalized = try XCTUnwrap(golden["normalized"] as? [[Double]]), pooled = try XCTUnwrap(golden["pooled"] as? [[Double]])
        try await TestServer.with(try TestServer.miniLM()) { base, _ in
            // TEI's quick tour: one text → one row; a batch → a row per text; normalised by default.
            let one = try await TestServer.call(base, "/embed", body: TestServer.json(["inputs": texts[0]]))
            XCTAssertEqual(one.status, 200, one.text)
            assertVectors(one.json, [normalized[0]])
            XCTAssertEqual(one.header("x-compute-tokens"), String((golden["lengths"] as? [Int])?[0] ?? -1))
            let all = try await TestServer.call(base, "/embed", body: TestServer.json(["inputs": texts]))
            assertVectors(all.json, normalized)
            let raw = try await TestServer.call(base, "/embed", body: TestServer.json(["inputs": texts, "normalize": false]))
            assertVectors(raw.json, pooled, accuracy: 1e-4)
            // Token ids are decoded and encoded again without special tokens, as TEI does.
            let ids = try await TestServer.call(base, "/embed", body: TestServer.json(["inputs": [101, 2054, 2003, 2784, 4083, 1029, 102]]))
            XCTAssertEqual(ids.status, 200, ids.text)
            assertVectors(ids.json, [normalized[0]])
            // TEI's router/tests/test_http_embed.rs on this model: `dimensions` 128 cuts, then normalises;
            // its snapshot (test_http_embed__mrl_embeddings_single.snap) starts with these values, tolerance 4e-3.
            let cut = try await TestServer.call(base, "/embed", body: TestServer.json(["inputs": ["test", "test", "test"], "dimensions": 128]))
            let rows = try XCTUnwrap(cut.json as? [[Double]], cut.text)
            XCTAssertEqual(rows.map(\.count), [128, 128, 128])
            XCTAssertEqual(rows[0], rows[2])
            for (got, want) in zip(rows[0].prefix(4), [0.020964134, 0.04565805, -0.066505864, 0.10739273]) { XCTAssertEqual(got, want, accuracy: 4e-3) }
            // `POST /` routes an embedding model's body to /embed; /info names the pooling.
            let root = try await TestServer.call(base, "/", body: TestServer.json(["inputs": texts[0]]))
            assertVectors(root.json, [normalized[0]])
            let info = try await TestServer.call(base, "/info")
            let type = (info.json as? [String: Any])?["model_type"] as? [String: Any]
            XCTAssertEqual((type?["embedding"] as? [String: Any])?["pooling"] as? String, "mean", info.text)
            // A classifier's route on an embedding model.
            let predict = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": "x"]))
            XCTAssertEqual(predict.status, 424)
            XCTAssertEqual(predict.error, "Backend error: Model is not a classifier model")
        }
    }

    func testRerankMatchesTransformersCrossEncoderScores() async throws {
        let golden = try TestServer.golden("server/tei-goldens.json", "rerank")
        let query = try XCTUnwrap(golden["query"] as? String), texts = try XCTUnwrap(golden["texts"] as? [String])
        let logits = try XCTUnwrap(golden["logits"] as? [Double]), scores = try XCTUnwrap(golden["scores"] as? [Double])
        try await TestServer.with(TestServer.reranker) { base, _ in
            for raw in [false, true] {
                let reply = try await TestServer.call(base, "/rerank", body: TestServer.json(["query": query, "texts": texts, "raw_scores": raw, "return_text": true]))
                XCTAssertEqual(reply.status, 200, reply.text)
                let ranks = try XCTUnwrap(reply.json as? [[String: Any]])
                let expected = raw ? logits : scores
                // Best first; equal scores put the higher index first (TEI's test_http_rerank.rs).
                let order = expected.indices.sorted { expected[$0] != expected[$1] ? expected[$0] > expected[$1] : $0 > $1 }
                XCTAssertEqual(ranks.map { $0["index"] as? Int }, order)
                for rank in ranks {
                    let i = try XCTUnwrap(rank["index"] as? Int)
                    XCTAssertEqual(rank["score"] as? Double ?? .nan, expected[i], accuracy: 1e-5)
                    XCTAssertEqual(rank["text"] as? String, texts[i])
                }
            }
            let bare = try await TestServer.call(base, "/rerank", body: TestServer.json(["query": query, "texts": texts]))
            XCTAssertTrue((bare.json as? [[String: Any]])?.allSatisfy { $0["text"] == nil } == true, "text is left out unless asked: \(bare.text)")
            // /info calls a single-output classifier a reranker; `POST /` routes to /rerank.
            let info = try await TestServer.call(base, "/info")
            XCTAssertNotNil(((info.json as? [String: Any])?["model_type"] as? [String: Any])?["reranker"], info.text)
            let root = try await TestServer.call(base, "/", body: TestServer.json(["query": query, "texts": texts]))
            XCTAssertEqual((root.json as? [[String: Any]])?.count, texts.count, root.text)
            // /predict on a reranker: the sigmoid of the single output for a pair.
            let pair = try TestServer.golden("server/tei-goldens.json", "predict_pair")
            let predict = try await TestServer.call(base, "/predict", body: TestServer.json(["inputs": pair["pair"] ?? []]))
            XCTAssertEqual((predict.json as? [[String: Any]])?.first?["score"] as? Double ?? .nan, pair["score"] as? Double ?? 0, accuracy: 1e-5)
        }
        // Rerank needs a single-output classifier.
        try await TestServer.with { base, _ in
            let reply = try await TestServer.call(base, "/rerank", body: TestServer.json(["query": query, "texts": texts]))
            XCTAssertEqual(reply.status, 424)
            XCTAssertEqual(reply.json as? [String: String], ["error": "Backend error: model is not a re-ranker model", "error_type": "Backend"])
        }
    }

    func testDecodeMatchesTransformers() async throws {
        let goldens = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: TestServer.root.appendingPathComponent("Fixtures/server/tei-goldens.json"))) as? [String: Any])
        let decode = try XCTUnwrap(goldens["decode"] as? [[String: Any]])
        let tiny = try XCTUnwrap(decode.first { $0["tokenizer"] as? String == "tiny-bert-safetensors-fp32" }?["entries"] as? [[String: Any]])
        try await TestServer.with { base, _ in
            let ids = tiny.compactMap { $0["ids"] as? [Int] }
            for (skip, key) in [(true, "skip_special_tokens"), (false, "keep_special_tokens")] {
                let expected = tiny.map { ($0["decode_rust"] as? [String: String])?[key] }
                let batch = try await TestServer.call(base, "/decode", body: TestServer.json(["ids": ids, "skip_special_tokens": skip]))
                XCTAssertEqual(batch.status, 200, batch.text)
                XCTAssertEqual((batch.json as? [String])?.map { Optional($0) }, expected)
            }
            // One id list is answered with an array too; special tokens are skipped by default.
            let one = try await TestServer.call(base, "/decode", body: TestServer.json(["ids": ids[0]]))
            XCTAssertEqual(one.json as? [String], [(tiny[0]["decode_rust"] as? [String: String])?["skip_special_tokens"] ?? "?"])
        }
    }

    func testTokenizeMatchesTheRustTokenizersOffsets() async throws {
        let golden = try TestServer.golden("server/tei-goldens.json", "tokenize")
        let inputs = try XCTUnwrap(golden["inputs"] as? [[String: Any]])
        try await TestServer.with(try TestServer.miniLM()) { base, _ in
            let reply = try await TestServer.call(base, "/tokenize", body: TestServer.json(["inputs": inputs.map { $0["text"] ?? "" }]))
            XCTAssertEqual(reply.status, 200, reply.text)
            let got = try XCTUnwrap(reply.json as? [[[String: Any]]])
            for (tokens, input) in zip(got, inputs) {
                let expected = try XCTUnwrap(input["tokens"] as? [[String: Any]])
                XCTAssertEqual(tokens as NSArray, expected as NSArray, "\(input["text"] ?? "")")
            }
        }
    }

    func testAPIKeyOpenAPIAndPublicRoutes() async throws {
        try await TestServer.with(configure: { $0.apiKey = "s3cret" }) { base, _ in
            let body = TestServer.json(["inputs": "I like you."])
            for headers in [[:], ["Authorization": "Bearer wrong"], ["Authorization": "bearer s3cret"], ["Authorization": "s3cret"]] {
                let refused = try await TestServer.call(base, "/predict", body: body, headers: headers)
                XCTAssertEqual(refused.status, 401, "\(headers)")
                XCTAssertEqual(refused.text, "")
            }
            let info = try await TestServer.call(base, "/info")
            XCTAssertEqual(info.status, 401)
            // The key is checked before the body is read.
            let badBody = try await TestServer.call(base, "/predict", body: "{", headers: ["Authorization": "Bearer nope"])
            XCTAssertEqual(badBody.status, 401)
            let ok = try await TestServer.call(base, "/predict", body: body, headers: ["Authorization": "Bearer s3cret"])
            XCTAssertEqual(ok.status, 200, ok.text)
            for path in ["/health", "/", "/ping", "/metrics", "/openapi.json", "/api-doc/openapi.json"] {
                let open = try await TestServer.call(base, path)
                XCTAssertEqual(open.status, 200, path)
            }
            // The document describes every route the server answers.
            let document = try await TestServer.call(base, "/openapi.json")
            let paths = try XCTUnwrap((document.json as? [String: Any])?["paths"] as? [String: Any])
            XCTAssertEqual(Set(paths.keys), ["/predict", "/rerank", "/embed", "/tokenize", "/decode", "/", "/invocations", "/info", "/health", "/metrics", "/openapi.json"])
        }
    }
}
