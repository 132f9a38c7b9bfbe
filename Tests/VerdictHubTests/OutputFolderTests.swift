import Foundation
import XCTest
@testable import VerdictHub

/// `OutputFolder` and `OutputFile`, the one helper every writing command uses: what counts as
/// Verdict's own output, and that nothing else is ever removed.
final class OutputFolderTests: XCTestCase {
    let fm = FileManager.default

    func scratch() throws -> URL {
        let dir = fm.temporaryDirectory.appendingPathComponent("verdict-output-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func put(_ text: String, _ url: URL) throws {
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func testANewFolderIsWrittenWithAMarkerListingItsFiles() throws {
        let out = try scratch().appendingPathComponent("a/b/model")
        try OutputFolder.prepare(out.path, kind: .model).write { dir in
            try self.put("{}", dir.appendingPathComponent("config.json"))
            try self.put("x", dir.appendingPathComponent("1_Pooling/config.json"))
        }
        let marker = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(OutputFolder.markerName))) as! [String: Any]
        XCTAssertEqual(marker["kind"] as? String, "model")
        XCTAssertEqual(marker["files"] as? [String], ["1_Pooling/config.json", "config.json"])
        // Its own output is replaced; nothing of the old one is left.
        try OutputFolder.prepare(out.path, kind: .model).write { dir in try self.put("{}", dir.appendingPathComponent("config.json")) }
        XCTAssertFalse(fm.fileExists(atPath: out.appendingPathComponent("1_Pooling").path))
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: out.deletingLastPathComponent().path), ["model"], "no temporary left beside it")
    }

    func testAFileInASubfolderOfItsOwnOutputIsForeign() throws {
        let out = try scratch().appendingPathComponent("m")
        try OutputFolder.prepare(out.path, kind: .model).write { dir in try self.put("x", dir.appendingPathComponent("1_Pooling/config.json")) }
        try put("mine", out.appendingPathComponent("1_Pooling/notes.txt"))
        XCTAssertThrowsError(try OutputFolder.prepare(out.path, kind: .model)) { error in
            XCTAssertEqual(error as? OutputError, .foreignFiles(flag: nil, path: out.path, names: ["1_Pooling/notes.txt"]))
        }
    }

    func testAnUnmarkedFolderIsVerdictsOnlyWhenItHoldsNothingButThatKindsFiles() throws {
        let dir = try scratch()
        let legacy = dir.appendingPathComponent("legacy")
        for f in ["config.json", "model.safetensors", "vocab.txt"] { try put("x", legacy.appendingPathComponent(f)) }
        XCTAssertNoThrow(try OutputFolder.prepare(legacy.path, kind: .model))
        let run = dir.appendingPathComponent("run")
        for f in ["checkpoint-3/config.json", "final/config.json", "log.jsonl", "training_curve.svg"] { try put("x", run.appendingPathComponent(f)) }
        XCTAssertNoThrow(try OutputFolder.prepare(run.path, kind: .trainingRun))
        XCTAssertThrowsError(try OutputFolder.prepare(run.path, kind: .model))
        try put("x", legacy.appendingPathComponent("README.md"))
        XCTAssertThrowsError(try OutputFolder.prepare(legacy.path, kind: .model))
    }

    func testAnotherKindsOutputIsRefused() throws {
        let out = try scratch().appendingPathComponent("r")
        try OutputFolder.prepare(out.path, kind: .report).write { dir in try self.put("<html>", dir.appendingPathComponent("report.html")) }
        XCTAssertThrowsError(try OutputFolder.prepare(out.path, kind: .model)) { error in
            XCTAssertEqual(error as? OutputError, .otherKind(flag: nil, path: out.path, found: "report", expected: "model"))
        }
    }

    func testAFolderThatIsOrHoldsAnInputIsRefused() throws {
        let dir = try scratch()
        let input = dir.appendingPathComponent("models/m")
        try put("{}", input.appendingPathComponent("config.json"))
        for candidate in [input, input.deletingLastPathComponent(), dir] {
            XCTAssertThrowsError(try OutputFolder.prepare(candidate.path + "/", kind: .model, flag: "--output", inputs: [input])) { error in
                guard case .containsInput? = error as? OutputError else { return XCTFail("\(error)") }
            }
        }
        // Through a symbolic link too.
        let link = dir.appendingPathComponent("link")
        try fm.createSymbolicLink(at: link, withDestinationURL: input.deletingLastPathComponent())
        XCTAssertThrowsError(try OutputFolder.prepare(link.path, kind: .model, inputs: [input]))
        XCTAssertNoThrow(try OutputFolder.prepare(dir.appendingPathComponent("models/q").path, kind: .model, inputs: [input]))
    }

    func testAFileAddedWhileTheWorkRanIsNotDeleted() throws {
        let out = try scratch().appendingPathComponent("m")
        try OutputFolder.prepare(out.path, kind: .model).write { dir in try self.put("old", dir.appendingPathComponent("config.json")) }
        let folder = try OutputFolder.prepare(out.path, kind: .model)
        XCTAssertThrowsError(try folder.write { dir in
            try self.put("new", dir.appendingPathComponent("config.json"))
            try self.put("added meanwhile", out.appendingPathComponent("notes.txt"))
        }) { error in
            guard case let .changedMeanwhile(_, foreign, result)? = error as? OutputError else { return XCTFail("\(error)") }
            XCTAssertEqual(foreign, ["notes.txt"])
            XCTAssertEqual(try? String(contentsOf: URL(fileURLWithPath: result).appendingPathComponent("config.json"), encoding: .utf8), "new")
        }
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("notes.txt"), encoding: .utf8), "added meanwhile")
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8), "old")
    }

    func testAFailedWriteLeavesTheOldOutputAndNoTemporary() throws {
        let dir = try scratch()
        let out = dir.appendingPathComponent("m")
        try OutputFolder.prepare(out.path, kind: .model).write { d in try self.put("old", d.appendingPathComponent("config.json")) }
        struct Boom: Error {}
        XCTAssertThrowsError(try OutputFolder.prepare(out.path, kind: .model).write { _ in throw Boom() })
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("config.json"), encoding: .utf8), "old")
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir.path), ["m"])
    }

    func testOutputFileReplacesOnlyWhatItRecognises() throws {
        let dir = try scratch()
        let data = dir.appendingPathComponent("data.tsv"), mine = dir.appendingPathComponent("notes.jsonl")
        try put("text\tlabel\n", data)
        try put("{\"note\": 1}\n", mine)
        let isOwn: (URL) -> Bool = { (try? String(contentsOf: $0, encoding: .utf8))?.contains("predicted") ?? false }
        XCTAssertThrowsError(try OutputFile.prepare(data.path, inputs: [data], isOwn: { _ in true }))
        XCTAssertThrowsError(try OutputFile.prepare(mine.path, isOwn: isOwn)) { XCTAssertEqual($0 as? OutputError, .foreignFile(flag: nil, path: mine.path)) }
        XCTAssertThrowsError(try OutputFile.prepare(dir.path, isOwn: isOwn)) { XCTAssertEqual($0 as? OutputError, .isAFolder(flag: nil, path: dir.path)) }
        let file = try OutputFile.prepare(dir.appendingPathComponent("p.jsonl").path, isOwn: isOwn)
        try file.write(Data("{\"predicted\": \"a\"}\n".utf8))
        XCTAssertNoThrow(try OutputFile.prepare(file.url.path, isOwn: isOwn))
    }
}
