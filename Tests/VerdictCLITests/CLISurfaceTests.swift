import Foundation
import XCTest

/// What a user meets first: `--help` lists the user commands, enumerated options are checked by
/// the parser with their allowed values, and a `text,label` CSV trains with no column flags.
final class CLISurfaceTests: XCTestCase {
    func testHelpListsOnlyUserCommands() throws {
        let help = try CLI.run(["--help"])
        XCTAssertEqual(help.status, 0, help.err)
        let listed = help.out.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n")
            .compactMap { $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.hasPrefix("  See ") ? $0.split(separator: " ").first.map(String.init) : nil } ?? []
        XCTAssertEqual(Set(listed), ["classify", "evaluate", "embed", "inspect", "quantize", "tokenize", "train", "serve", "env"], help.out)
    }

    func testEnumeratedOptionsFailInTheParserWithTheAllowedValues() throws {
        let function = try CLI.run(["classify", "--function", "bogus", "hi"])
        XCTAssertEqual(function.status, 64)   // argument-parser's usage error, before any model loads
        XCTAssertTrue(function.err.contains("'auto', 'softmax', 'sigmoid' or 'none'"), function.err)
        for bad in ["0", "-2", "some"] {
            let topK = try CLI.run(["classify", "--top-k", bad, "hi"])
            XCTAssertEqual(topK.status, 64, bad)
            XCTAssertTrue(topK.err.contains("--top-k"), topK.err)
        }
        let train = ["train", "--model", "m", "--train", "t.csv", "--output", "o"]
        for (option, allowed) in [("--scheduler", ["linear", "cosine", "constant", "constant_with_warmup"]),
                                  ("--eval-strategy", ["no", "steps", "epoch"]), ("--save-strategy", ["no", "steps", "epoch"]),
                                  ("--save-dtype", ["float32", "float16", "bfloat16"]), ("--dtype", ["float32", "int8", "bfloat16"])] {
            let command = option == "--dtype" ? ["evaluate", "--model", "m", "--data", "e.csv"] : train
            let result = try CLI.run(command + [option, "bogus"])
            XCTAssertEqual(result.status, 64, option)
            for value in allowed { XCTAssertTrue(result.err.contains("'\(value)'"), "\(option): \(result.err)") }
        }
    }

    func testTrainReadsATextLabelCSVWithoutColumnFlags() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-text-label-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = "text,label\n\"I love it, really\",1\nawful,0\ngreat fun,1\nterrible,0\n"
        try csv.write(to: dir.appendingPathComponent("data.csv"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--model", ClassifyAndTrainCommandTests.tiny, "--train", dir.appendingPathComponent("data.csv").path,
                             "--labels", "NEGATIVE,POSITIVE", "--output", dir.appendingPathComponent("out").path, "--epochs", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/final/model.safetensors").path))
        let evaluate = try CLI.run(["evaluate", "--model", dir.appendingPathComponent("out/final").path, "--data", dir.appendingPathComponent("data.csv").path, "--json"])
        XCTAssertEqual(evaluate.status, 0, evaluate.err)
        // Neither column: the error names both defaults and what the file has.
        try "sentence_text,label\nx,1\n".write(to: dir.appendingPathComponent("other.csv"), atomically: true, encoding: .utf8)
        let missing = try CLI.run(["train", "--model", ClassifyAndTrainCommandTests.tiny, "--train", dir.appendingPathComponent("other.csv").path,
                                   "--output", dir.appendingPathComponent("out2").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("text or sentence") && missing.err.contains("sentence_text"), missing.err)
    }
}
