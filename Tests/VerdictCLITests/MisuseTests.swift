import Foundation
import VerdictTestSupport
import XCTest

/// The CLI as a careless or hostile user drives it (issue 29's findings, a test each, named for
/// what the user did): every command refuses what would lose data or answer wrongly, with a
/// message that names the flag, file or line, and leaves every unrelated file byte-identical.
/// docs/Reliability.md lists each finding with its test.
final class MisuseTests: XCTestCase {
    static let tiny = ClassifyAndTrainCommandTests.tiny
    let fm = FileManager.default

    func scratch() throws -> URL {
        let dir = fm.temporaryDirectory.appendingPathComponent("verdict-misuse-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Every file under `folder` with its bytes.
    func snapshot(_ folder: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        let walker = fm.enumerator(atPath: folder.path)
        while let path = walker?.nextObject() as? String {
            if let data = fm.contents(atPath: folder.appendingPathComponent(path).path) { files[path] = data }
        }
        return files
    }

    func write(_ text: String, _ url: URL) throws {
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A refusal: non-zero status, one clear line naming `expected`, nothing of Foundation's or NIO's words.
    func assertRefused(_ r: (out: String, err: String, status: Int32), _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "expected a refusal: " + r.out, file: file, line: line)
        XCTAssertTrue(r.err.contains(expected), "stderr lacks \"\(expected)\": " + r.err, file: file, line: line)
        for raw in ["NSCocoaErrorDomain", "DecodingError", "Fatal error", "errno", "Debug description"] {
            XCTAssertFalse(r.err.contains(raw), "library words in the error: " + r.err, file: file, line: line)
        }
    }

    func copyTiny(to url: URL) throws -> URL {
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fm.copyItem(at: URL(fileURLWithPath: Self.tiny), to: url)
        return url
    }

    func trainingFile(in dir: URL, labels: [String] = ["0", "1"]) throws -> URL {
        var tsv = "sentence\tlabel\n"
        for i in 0..<24 { tsv += "text number \(i)\t\(labels[i % labels.count])\n" }
        let url = dir.appendingPathComponent("train.tsv")
        try write(tsv, url)
        return url
    }

    // MARK: Data loss

    func testQuantizeIntoAProjectFolderRefusesAndLeavesEveryFileByteIdentical() throws {
        let project = try scratch()
        try write("print(1)\n", project.appendingPathComponent("main.swift"))
        try write("let x = 1\n", project.appendingPathComponent("src/a.swift"))
        let before = snapshot(project)
        let r = try CLI.run(["quantize", "--model", Self.tiny, "--output", project.path])
        assertRefused(r, "holds files Verdict did not write (main.swift, src)")
        XCTAssertEqual(snapshot(project), before)
    }

    func testQuantizeIntoTheFolderHoldingTheModelRefusesAndLeavesBothModels() throws {
        let models = try scratch()
        let source = try copyTiny(to: models.appendingPathComponent("m"))
        _ = try copyTiny(to: models.appendingPathComponent("other"))
        let before = snapshot(models)
        for output in [models, source] {
            let r = try CLI.run(["quantize", "--model", source.path, "--output", output.path])
            assertRefused(r, "the output would replace the input")
        }
        XCTAssertEqual(snapshot(models), before)
    }

    func testQuantizeAgainIntoItsOwnOutputReplacesItButNotAUsersFileAddedThere() throws {
        let out = try scratch().appendingPathComponent("q")
        for _ in 0..<2 {
            let r = try CLI.run(["quantize", "--model", Self.tiny, "--output", out.path])
            XCTAssertEqual(r.status, 0, r.err)
        }
        try write("mine", out.appendingPathComponent("notes.txt"))
        let before = snapshot(out)
        assertRefused(try CLI.run(["quantize", "--model", Self.tiny, "--output", out.path]), "notes.txt")
        XCTAssertEqual(snapshot(out), before)
        let classify = try CLI.run(["classify", "--model", out.path, "a fine film"])
        XCTAssertEqual(classify.status, 0, classify.err)
    }

    func testTrainIntoARunWhoseFinalHoldsAUsersFileRefusesBeforeTraining() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir)
        let run = dir.appendingPathComponent("run1")
        let args = ["train", "--model", Self.tiny, "--train", data.path, "--output", run.path, "--max-steps", "2", "--batch-size", "8", "--save-strategy", "no"]
        XCTAssertEqual(try CLI.run(args).status, 0)
        try write("my notes", run.appendingPathComponent("final/notes.txt"))
        let before = snapshot(run)
        let r = try CLI.run(args)
        assertRefused(r, "final: the folder holds files Verdict did not write (notes.txt)")
        XCTAssertFalse(r.err.contains("training on"), "refused only after starting: " + r.err)
        XCTAssertEqual(snapshot(run), before)
    }

    func testTrainWithOutputNamingAnExistingFileRefusesBeforeTraining() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir)
        let file = dir.appendingPathComponent("results.txt")
        try write("keep me", file)
        let r = try CLI.run(["train", "--model", Self.tiny, "--train", data.path, "--output", file.path, "--max-steps", "2"])
        assertRefused(r, "--output \(file.path): is a file")
        XCTAssertFalse(r.err.contains("training on"), r.err)
        XCTAssertEqual(try String(contentsOf: file, encoding: .utf8), "keep me")
    }

    func testEvaluateWithReportNamingAFileOrPredictionsNamingAFolderRefusesBeforeEvaluating() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir, labels: ["negative", "positive"])
        try write("mine", dir.appendingPathComponent("report.txt"))
        let before = snapshot(dir)
        assertRefused(try CLI.run(["evaluate", "--model", Self.tiny, "--data", data.path, "--report", dir.appendingPathComponent("report.txt").path]),
                      "--report \(dir.appendingPathComponent("report.txt").path): is a file")
        assertRefused(try CLI.run(["evaluate", "--model", Self.tiny, "--data", data.path, "--predictions", dir.path]), "--predictions \(dir.path): is a folder")
        assertRefused(try CLI.run(["evaluate", "--model", Self.tiny, "--data", data.path, "--predictions", data.path]), "the output would replace the input")
        XCTAssertEqual(snapshot(dir), before)
        // Written where it can be: the metrics print, then both outputs are written, and a second run replaces them.
        for _ in 0..<2 {
            let ok = try CLI.run(["evaluate", "--model", Self.tiny, "--data", data.path, "--report", dir.appendingPathComponent("r").path,
                                  "--predictions", dir.appendingPathComponent("p.jsonl").path])
            XCTAssertEqual(ok.status, 0, ok.err)
            XCTAssertTrue(ok.out.contains("accuracy"), ok.out)
        }
        XCTAssertTrue(fm.fileExists(atPath: dir.appendingPathComponent("r/report.html").path))
    }

    // MARK: Numbers and label sets

    func testServeOnPort70000Refuses() throws {
        assertRefused(try CLI.run(["serve", "--model", Self.tiny, "--port", "70000"]), "--port must be between 1 and 65535")
    }

    func testServeWithAnEmptyAPIKeyRefuses() throws {
        assertRefused(try CLI.run(["serve", "--model", Self.tiny, "--api-key", ""]), "--api-key is empty")
    }

    func testServeWithClientBatchAboveTheQueueRefuses() throws {
        assertRefused(try CLI.run(["serve", "--model", Self.tiny, "--max-client-batch-size", "1000"]), "--max-client-batch-size (1000) is above --max-queued-inputs (512)")
    }

    func testServeOnAPortAnotherServerHoldsSaysWhichPortIsTaken() throws {
        let first = try CLI.process(["serve", "--model", Self.tiny, "--port", "0"])
        let out = Pipe()
        first.standardOutput = out
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { first.terminate(); first.waitUntilExit() } }
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = try XCTUnwrap(String(decoding: line, as: UTF8.self).split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let second = try CLI.run(["serve", "--model", Self.tiny, "--port", port])
        assertRefused(second, "cannot listen on 127.0.0.1:\(port): the address is already in use by another program")
        XCTAssertFalse(second.err.contains("bind(descriptor"), second.err)
    }

    func testTrainOnAFileWhoseEveryLabelIsTheSameRefuses() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir, labels: ["POSITIVE"])
        assertRefused(try CLI.run(["train", "--model", Self.tiny, "--train", data.path, "--output", dir.appendingPathComponent("o").path]),
                      "every training example has the label \"POSITIVE\"")
    }

    func testTrainWithRepeatedOrEmptyLabelNamesRefuses() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir)
        for (labels, message) in [("a,a", "--labels: \"a\" is named twice"), ("a,,b", "--labels: label 2 of 3 is empty"), ("a", "at least two classes")] {
            let r = try CLI.run(["train", "--model", Self.tiny, "--train", data.path, "--output", dir.appendingPathComponent("o").path, "--labels", labels])
            assertRefused(r, message)
            XCTAssertTrue(r.err.contains("Usage: verdict train"), r.err)
        }
    }

    func testTrainWithEvalStrategyButNoEvalFileRefuses() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir)
        assertRefused(try CLI.run(["train", "--model", Self.tiny, "--train", data.path, "--output", dir.appendingPathComponent("o").path, "--eval-strategy", "epoch"]),
                      "--eval-strategy) is epoch but there is no evaluation data")
    }

    func testRecipeWithAnUnknownOrMisspeltKeyRefusesNamingTheNearestKey() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir)
        for (key, message) in [("bogus_key", "unknown key \"bogus_key\""), ("learning_rat", "unknown key \"learning_rat\"; did you mean \"learning_rate\"?")] {
            let recipe = dir.appendingPathComponent("r.json")
            try write("{\"model\": \"\(Self.tiny)\", \"train\": \"\(data.path)\", \"output_dir\": \"\(dir.path)/o\", \"\(key)\": 5}", recipe)
            assertRefused(try CLI.run(["train", "--config", recipe.path]), message)
        }
    }

    func testRecipeWithALearningRateAsAStringNamesTheFileAndKey() throws {
        let dir = try scratch()
        let recipe = dir.appendingPathComponent("r.json")
        try write("{\"model\": \"\(Self.tiny)\", \"output_dir\": \"\(dir.path)/o\", \"learning_rate\": \"1e-4\"}", recipe)
        assertRefused(try CLI.run(["train", "--config", recipe.path]), "--config \(recipe.path): \"learning_rate\" must be a number")
    }

    func testClassifyWithAHeadOfMoreRowsThanId2LabelRefuses() throws {
        let model = try copyTiny(to: try scratch().appendingPathComponent("m"))
        let configURL = model.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["id2label"] = ["0": "a", "1": "b"]
        config["label2id"] = ["a": 0, "b": 1]
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        assertRefused(try CLI.run(["classify", "--model", model.path, "hello"]), "size mismatch")
    }

    func testEvaluateOnAFileWithAHeaderAndNoRowsRefuses() throws {
        let dir = try scratch()
        let data = dir.appendingPathComponent("empty.tsv")
        try write("sentence\tlabel\n", data)
        assertRefused(try CLI.run(["evaluate", "--model", Self.tiny, "--data", data.path]), "\(data.path) has no data rows")
    }

    func testTrainWithABatchLargerThanTheDataReportsTheSamplesReallySeen() throws {
        let dir = try scratch()
        let data = try trainingFile(in: dir)
        let run = dir.appendingPathComponent("o")
        let r = try CLI.run(["train", "--model", Self.tiny, "--train", data.path, "--output", run.path, "--batch-size", "100000", "--epochs", "2", "--save-strategy", "no"])
        XCTAssertEqual(r.status, 0, r.err)
        let log = try String(contentsOf: run.appendingPathComponent("log.jsonl"), encoding: .utf8)
        let last = try JSONSerialization.jsonObject(with: Data(log.split(separator: "\n").last!.utf8)) as! [String: Double]
        let samples = last["train_samples_per_second"]! * last["train_runtime"]!
        XCTAssertEqual(samples, 48, accuracy: 0.5, "2 epochs of 24 examples")
        XCTAssertFalse(r.out.contains("evaluation reports"), "no evaluation ran: " + r.out)
    }

    // MARK: Reading text

    func testTokenizeReadsCRLFInputAsThreeTexts() throws {
        let r = try CLI.run(["tokenize", "--model", Self.tiny, "--json"], stdin: "good\r\nbad\r\nugly\r\n")
        XCTAssertEqual(r.status, 0, r.err)
        let texts = try r.out.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.map { $0["text"] as! String }
        XCTAssertEqual(texts, ["good", "bad", "ugly"])
        let classify = try CLI.run(["classify", "--model", Self.tiny], stdin: "good\r\nbad\r\nugly\r\n")
        XCTAssertEqual(classify.out.split(separator: "\n").map { $0.split(separator: "\t").last.map(String.init) }, ["good", "bad", "ugly"])
    }

    func testClassifyFromStandardInputStreamsAndSkipsBlankLines() throws {
        let p = try CLI.process(["classify", "--model", Self.tiny, "--batch-size", "1"])
        let input = Pipe(), output = Pipe()
        p.standardInput = input; p.standardOutput = output; p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("first text\n\n".utf8))
        // The answer to the first line arrives while standard input is still open.
        var received = Data()
        while !received.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received += chunk
        }
        XCTAssertTrue(String(decoding: received, as: UTF8.self).hasSuffix("\tfirst text\n"), String(decoding: received, as: UTF8.self))
        input.fileHandleForWriting.write(Data("  \nsecond text\n".utf8))
        try input.fileHandleForWriting.close()
        received += output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(String(decoding: received, as: UTF8.self).split(separator: "\n").count, 2, "blank lines are skipped")
    }

    func testClassifyInputJSONLWithBlankLinesReportsThePhysicalLineAndTheFileOnce() throws {
        let file = try scratch().appendingPathComponent("blank.jsonl")
        try write("{\"text\": \"a\"}\n\n\n{\"text\": \"b\"}\n\n{\"text\": \n", file)
        let r = try CLI.run(["classify", "--model", Self.tiny, "--input", file.path])
        assertRefused(r, "\(file.path):6:")
        XCTAssertEqual(r.err.components(separatedBy: file.path).count, 2, "the file named once: " + r.err)
    }

    func testClassifyInputJSONLWithAByteOrderMark() throws {
        let file = try scratch().appendingPathComponent("bom.jsonl")
        try Data([0xEF, 0xBB, 0xBF] + Array("{\"text\": \"a fine film\"}\n".utf8)).write(to: file)
        let r = try CLI.run(["classify", "--model", Self.tiny, "--input", file.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasSuffix("\ta fine film\n"), r.out)
    }

    func testClassifyInputTxtIsOneTextPerLine() throws {
        let file = try scratch().appendingPathComponent("texts.txt")
        try write("one, with a comma\ttab\n\ntwo\r\nthree\n", file)
        let r = try CLI.run(["classify", "--model", Self.tiny, "--input", file.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out.split(separator: "\n").count, 3, r.out)
    }

    func testClassifyInputTSVSavedAsCSVGetsADelimiterHint() throws {
        let dir = try scratch()
        let ragged = dir.appendingPathComponent("a.csv"), single = dir.appendingPathComponent("b.csv")
        try write("text\tlabel\nhello, world\t1\n", ragged)
        try write("text\tlabel\nhello\t1\n", single)
        assertRefused(try CLI.run(["classify", "--model", Self.tiny, "--input", ragged.path]), "the file looks tab-separated: name it .tsv")
        assertRefused(try CLI.run(["classify", "--model", Self.tiny, "--input", single.path]), "the header looks tab-separated: name the file .tsv")
    }

    func testClassifyInputFindsATextColumnAsEvaluateDoes() throws {
        let file = try scratch().appendingPathComponent("d.csv")
        try write("id,text\n1,a fine film\n", file)
        let r = try CLI.run(["classify", "--model", Self.tiny, "--input", file.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasSuffix("\ta fine film\n"), r.out)
    }

    func testClassifyJSONLKeepsACRLFLineEndingByteForByte() throws {
        let r = try CLI.run(["classify", "--model", Self.tiny, "--jsonl"], stdin: "{\"text\": \"a\", \"n\": 1.50}\r\n")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("{\"text\": \"a\", \"n\": 1.50,\"prediction\":{"), r.out)
        XCTAssertTrue(r.out.hasSuffix("}}\r\n"), r.out.debugDescription)
    }

    // MARK: What a folder is, it stays

    func testQuantizeASentenceTransformersModelKeepsItAnEmbeddingModel() throws {
        let miniLM = try Self.miniLM()
        let out = try scratch().appendingPathComponent("q")
        let r = try CLI.run(["quantize", "--model", miniLM.path, "--output", out.path])
        XCTAssertEqual(r.status, 0, r.err)
        for file in ["modules.json", "1_Pooling/config.json", "sentence_bert_config.json"] {
            XCTAssertTrue(fm.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["BertModel"])
        // The int8 copy embeds as the original does (normalised, as its Normalize module says).
        func embedding(_ model: URL) throws -> [Double] {
            let e = try CLI.run(["embed", "--model", model.path, "--json", "a quiet, moving film"])
            XCTAssertEqual(e.status, 0, e.err)
            return (try JSONSerialization.jsonObject(with: Data(e.out.utf8)) as! [String: Any])["embedding"] as! [Double]
        }
        let (a, b) = (try embedding(miniLM), try embedding(out))
        XCTAssertEqual(a.map { $0 * $0 }.reduce(0, +), 1, accuracy: 1e-4, "normalised by the folder's Normalize module")
        XCTAssertGreaterThan(zip(a, b).map { $0 * $1 }.reduce(0, +), 0.98)
    }

    func testEmbedAppliesTheFoldersNormalizeModuleUnlessToldNot() throws {
        let miniLM = try Self.miniLM()
        let raw = try CLI.run(["embed", "--model", miniLM.path, "--no-normalize", "--json", "hello"])
        XCTAssertEqual(raw.status, 0, raw.err)
        let v = (try JSONSerialization.jsonObject(with: Data(raw.out.utf8)) as! [String: Any])["embedding"] as! [Double]
        XCTAssertGreaterThan(abs(v.map { $0 * $0 }.reduce(0, +) - 1), 0.01, "--no-normalize keeps the pooled vector")
    }

    func testAnUnknownKernelSettingIsAnErrorNamingTheAllowedValues() throws {
        assertRefused(try CLI.run(["classify", "--model", Self.tiny, "hello"], environment: ["VERDICT_KERNELS": "AVX2"]),
                      "VERDICT_KERNELS=AVX2 names no kernel path: use portable, avx2 or avx512")
        let capped = try CLI.run(["classify", "--model", Self.tiny, "hello"], environment: ["VERDICT_KERNELS": "portable"])
        XCTAssertEqual(capped.status, 0, capped.err)
    }

    // MARK: Help and usage

    func testQuantizeHelpListsOnlyTheFormatsItWrites() throws {
        let r = try CLI.run(["quantize", "--help"])
        XCTAssertTrue(r.out.contains("int8") && r.out.contains("bfloat16"), r.out)
        XCTAssertFalse(r.out.contains("float32"), r.out)
    }

    func testAUsageErrorFoundWhileRunningShowsTheSubcommandsUsage() throws {
        let r = try CLI.run(["train", "--model", Self.tiny, "--train", "x.tsv"])
        assertRefused(r, "--output (or a recipe with \"output_dir\") is required")
        XCTAssertTrue(r.err.contains("Usage: verdict train"), r.err)
    }

    static func miniLM() throws -> URL { try Repository.miniLM() }
}
