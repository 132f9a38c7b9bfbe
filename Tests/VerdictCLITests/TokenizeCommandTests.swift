import Foundation
import VerdictTestSupport
import XCTest

/// Runs the built `verdict` binary end to end.
final class TokenizeCommandTests: XCTestCase {
    static let root = Repository.root

    private func verdict(_ args: [String], stdin: String? = nil) throws -> (out: String, err: String, status: Int32) {
        try CLI.run(args, stdin: stdin)
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
