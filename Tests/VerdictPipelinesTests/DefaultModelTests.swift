import Foundation
import VerdictDefaultModel
import VerdictPipelines
import XCTest

/// Where the bundled default model is found: beside an executable built by SwiftPM, in an
/// installed tree, and the error a library caller gets when it is nowhere.
final class DefaultModelTests: XCTestCase {
    private func makeModelFolder(_ folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
    }

    func testFoundBesideABuiltExecutableAndInAnInstallTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-default-model-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }

        // A dependent package's build folder: <bin>/<Package>_VerdictDefaultModel.resources/default-sentiment.
        let build = root.appendingPathComponent("build/debug")
        let bundled = build.appendingPathComponent("verdict_VerdictDefaultModel.resources/default-sentiment")
        try makeModelFolder(bundled)
        XCTAssertEqual(DefaultModelResource.folder(executable: build.appendingPathComponent("App"))?.path, bundled.path)

        // make install / the .deb: <prefix>/bin/verdict and <prefix>/share/verdict/default-sentiment.
        let installed = root.appendingPathComponent("prefix/share/verdict/default-sentiment")
        try makeModelFolder(installed)
        XCTAssertEqual(DefaultModelResource.folder(executable: root.appendingPathComponent("prefix/bin/verdict"))?.path, installed.path)

        // Neither: the search ends at the target's own source folder, where the model is committed.
        let sources = try XCTUnwrap(DefaultModelResource.candidates(executable: root.appendingPathComponent("nowhere/verdict")).last)
        XCTAssertEqual(sources.lastPathComponent, "default-sentiment")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sources.appendingPathComponent("model.safetensors").path))
    }

    func testTheRunningTestsFindTheResourceBundle() throws {
        let folder = try XCTUnwrap(DefaultModelResource.folder())
        XCTAssertTrue(folder.path.contains("_VerdictDefaultModel.resources"), folder.path)
    }

    func testTheLibraryErrorNamesTheLibrarysRemedies() {
        let message = "\(DefaultModel.NotFound(searched: ["/a", "/b"]))"
        XCTAssertTrue(message.contains("pipeline(.textClassification, model:"), message)
        XCTAssertTrue(message.contains("VERDICT_DEFAULT_MODEL"), message)
        XCTAssertTrue(message.contains("/a, /b"), message)
        XCTAssertFalse(message.contains("--model"), message)
    }
}
