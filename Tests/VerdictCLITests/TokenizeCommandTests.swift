import Foundation
import XCTest

/// Runs the built `verdict` binary end to end.
final class TokenizeCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func verdict(_ args: [String], stdin: String? = nil) throws -> (out: String, err: String, status: Int32) {
        let candidates = [Bundle(for: Self.self).bundleURL.deletingLastPathComponent(), Self.root.appendingPathComponent(".build/debug")]
            .map { $0.appendingPathComponent("verdict") }
        guard let bin = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw XCTSkip("verdict binary not built (run swift build first)")
        }
        let p = Process()
        p.executableURL = bin
        p.arguments = args
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), p.terminationStatus)
    }

    func testJSONLinesFromStandardInput() throws {
        let model = Self.root.appendingPathComponent("Fixtures/tokenizers/wordpiece-cased").path
        let r = try verdict(["tokenize", "--model", model, "--json"], stdin: "Hello world\nSecond line\n")
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        XCTAssertEqual(first?["text"] as? String, "Hello world")
        for key in ["input_ids", "tokens", "attention_mask", "token_type_ids", "offsets"] { XCTAssertNotNil(first?[key], key) }
    }

    func testBadModelFolderIsAnErrorNotACrash() throws {
        let r = try verdict(["tokenize", "--model", "/nonexistent", "hi"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("/nonexistent"), r.err)
    }
}
