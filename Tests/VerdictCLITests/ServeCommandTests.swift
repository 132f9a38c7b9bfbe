import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `verdict serve` as a user runs it: starts, answers over HTTP with `verdict classify`'s scores,
/// stops cleanly on SIGTERM.
final class ServeCommandTests: XCTestCase {
    func testServeAnswersAndStopsOnSIGTERM() async throws {
        let model = CLI.root.appendingPathComponent("Fixtures/models/tiny-bert-safetensors-fp32").path
        let process = try CLI.process(["serve", "--model", model, "--port", "0"])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // First line: "Serving MODEL on http://127.0.0.1:PORT".
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        let address = try XCTUnwrap(text.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, text)
        XCTAssertTrue(text.hasPrefix("Serving \(model) on http://127.0.0.1:"), text)

        var request = URLRequest(url: try XCTUnwrap(URL(string: address + "/predict")))
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"inputs": "what a lovely day"}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")   // required, as in TEI (415 otherwise)
        let (data, response) = try await URLSession.shared.data(for: request)
        XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
        let scores = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        XCTAssertEqual(Set(scores.compactMap { $0["label"] as? String }), ["negative", "neutral", "positive"])
        XCTAssertEqual(scores.reduce(0) { $0 + ($1["score"] as? Double ?? 0) }, 1, accuracy: 1e-5)

        // The server's scores are `verdict classify`'s for the same texts (batched differently).
        let texts = ["what a lovely day", "dull and slow", "I did not expect to like it, but I did", "meh", "naïve “charming” 🙂"]
        request.httpBody = try JSONSerialization.data(withJSONObject: ["inputs": texts.map { [$0] }])
        let (batchData, _) = try await URLSession.shared.data(for: request)
        let served = try XCTUnwrap(JSONSerialization.jsonObject(with: batchData) as? [[[String: Any]]])
        let offline = try CLI.run(["classify", "--model", model, "--top-k", "all", "--json"], stdin: texts.joined(separator: "\n") + "\n")
        XCTAssertEqual(offline.status, 0, offline.err)
        let lines = offline.out.split(separator: "\n")
        XCTAssertEqual(lines.count, texts.count)
        for (line, got) in zip(lines, served) {
            let want = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["labels"] as? [[String: Any]])
            XCTAssertEqual(got.map { $0["label"] as? String }, want.map { $0["label"] as? String })
            for (g, w) in zip(got, want) { XCTAssertEqual(g["score"] as? Double ?? .nan, w["score"] as? Double ?? .infinity, accuracy: 1e-6) }
        }

        process.terminate()  // SIGTERM: graceful shutdown
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
