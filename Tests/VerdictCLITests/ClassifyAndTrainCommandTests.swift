import Foundation
import XCTest

/// `verdict classify`, `evaluate`, `inspect` and `train` end to end, including a run killed with
/// SIGKILL while it writes checkpoints.
final class ClassifyAndTrainCommandTests: XCTestCase {
    static let tiny = CLI.root.appendingPathComponent("Fixtures/models/tiny-bert-safetensors-fp32").path

    func testClassifyJSONTopKAll() throws {
        let r = try CLI.run(["classify", "--model", Self.tiny, "--top-k", "all", "--json"], stdin: "a gripping film\ndull\n")
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["text"] as? String, "a gripping film")
        let labels = first["labels"] as! [[String: Any]]
        XCTAssertEqual(Set(labels.map { $0["label"] as! String }), ["negative", "neutral", "positive"])
        let scores = labels.map { ($0["score"] as! NSNumber).doubleValue }
        XCTAssertEqual(scores.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertEqual(scores, scores.sorted(by: >))
    }

    func testErrorsAreOneLineAndNonZero() throws {
        let r = try CLI.run(["classify", "--model", "/nonexistent/model", "hello"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.hasPrefix("error: "), r.err)
        XCTAssertFalse(r.err.contains("Fatal error"), r.err)
        // Sizes that cannot work are refused before anything runs.
        for (args, flag) in [(["classify", "--model", Self.tiny, "--batch-size", "0", "hello"], "--batch-size must be at least 1"),
                             (["train", "--model", Self.tiny, "--train", "x.tsv", "--output", "/tmp/none", "--batch-size", "0"], "--batch-size): at least 1")] {
            let bad = try CLI.run(args)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.err.contains(flag), bad.err)
        }
        let inspect = try CLI.run(["inspect", "--model", Self.tiny])
        XCTAssertEqual(inspect.status, 0, inspect.err)
        XCTAssertTrue(inspect.out.contains("BertForSequenceClassification"), inspect.out)
        XCTAssertTrue(inspect.out.contains("0=negative"), inspect.out)
    }

    func trainingData() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-cli-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var tsv = "sentence\tlabel\n"
        let good = ["good", "great", "love", "fine"], bad = ["bad", "awful", "hate", "poor"]
        for i in 0..<96 { let w = i % 2 == 0 ? good : bad; tsv += "\(w[i % 4]) \(w[(i / 2) % 4]) \"quoted\"\t\(i % 2)\n" }
        try tsv.write(to: dir.appendingPathComponent("train.tsv"), atomically: true, encoding: .utf8)
        return dir
    }

    func trainArgs(_ dir: URL, output: String) -> [String] {
        ["train", "--model", Self.tiny, "--train", dir.appendingPathComponent("train.tsv").path, "--labels", "NEGATIVE,POSITIVE",
         "--output", dir.appendingPathComponent(output).path, "--epochs", "3", "--batch-size", "4", "--learning-rate", "1e-3",
         "--save-strategy", "steps", "--save-steps", "1", "--save-total-limit", "3", "--logging-steps", "10", "--seed", "5"]
    }

    func testTrainWritesAnEvaluationReportPerEvaluationAndTheCurve() throws {
        let dir = try trainingData()
        let data = dir.appendingPathComponent("train.tsv").path, out = dir.appendingPathComponent("with-eval")
        let r = try CLI.run(["train", "--model", Self.tiny, "--train", data, "--eval", data, "--labels", "NEGATIVE,POSITIVE",
                             "--output", out.path, "--epochs", "2", "--batch-size", "16", "--eval-strategy", "epoch",
                             "--save-strategy", "no", "--seed", "5"])
        XCTAssertEqual(r.status, 0, r.err + r.out)
        let reports = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("reports").path).sorted()
        XCTAssertEqual(reports, ["step-12.html", "step-6.html"])
        let page = try String(contentsOf: out.appendingPathComponent("reports/step-12.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("evaluation at step 12") && page.contains("NEGATIVE"), String(page.prefix(400)))
        let curve = try String(contentsOf: out.appendingPathComponent("training_curve.svg"), encoding: .utf8)
        XCTAssertTrue(curve.hasPrefix("<svg") || curve.contains("<svg"))
    }

    func testSigkillDuringCheckpointingThenResumeMatchesUninterruptedRun() throws {
        let dir = try trainingData()
        let reference = try CLI.run(trainArgs(dir, output: "uninterrupted"))
        XCTAssertEqual(reference.status, 0, reference.err)
        let expected = try Data(contentsOf: dir.appendingPathComponent("uninterrupted/final/model.safetensors"))

        // Kill a second run at a random moment while it writes a checkpoint every step.
        let out = dir.appendingPathComponent("killed")
        let p = try CLI.process(trainArgs(dir, output: "killed"))
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let fm = FileManager.default
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let n = ((try? fm.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasPrefix("checkpoint-") }.count
            if n >= 2 { break }
            usleep(2000)
        }
        usleep(UInt32.random(in: 0...30_000))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "the run was still going when killed")

        // Every visible checkpoint is complete; partial work only ever lives in hidden temporary folders.
        let checkpoints = try fm.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("checkpoint-") }
        XCTAssertFalse(checkpoints.isEmpty)
        for c in checkpoints {
            for f in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json", "training_state.json"] {
                XCTAssertTrue(fm.fileExists(atPath: out.appendingPathComponent(c).appendingPathComponent(f).path), "\(c)/\(f)")
            }
        }
        let latest = checkpoints.max { Int($0.dropFirst(11))! < Int($1.dropFirst(11))! }!
        let resumed = try CLI.run(trainArgs(dir, output: "killed") + ["--resume-from-checkpoint", out.appendingPathComponent(latest).path])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let got = try Data(contentsOf: out.appendingPathComponent("final/model.safetensors"))
        XCTAssertEqual(got, expected, "resumed from \(latest): final weights differ from the uninterrupted run")
    }
}
