import Foundation
import VerdictTestSupport
import XCTest

/// Runs the built `verdict` binary.
enum CLI {
    static let root = Repository.root

    final class Anchor {}

    static func binary() throws -> URL {
        // Beside the test bundle first (the same build as the tests, whatever --build-path was used).
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle(for: Anchor.self).bundleURL.deletingLastPathComponent(), root.appendingPathComponent(".build/debug")]
            .map { $0.appendingPathComponent("verdict") }
        guard let bin = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw XCTSkip("verdict binary not built (run swift build first)")
        }
        return bin
    }

    static func process(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        return p
    }

    static func run(_ args: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> (out: String, err: String, status: Int32) {
        let p = try process(args)
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let e = StandardError()
        Thread {
            e.data = err.fileHandleForReading.readDataToEndOfFile()
            e.done.signal()
        }.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        e.done.wait()
        return (String(decoding: o, as: UTF8.self), String(decoding: e.data, as: UTF8.self), p.terminationStatus)
    }

    /// Unchecked: written once by the reader thread before it signals `done`, read only after `done`.
    final class StandardError: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}
