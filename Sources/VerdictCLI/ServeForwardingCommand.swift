import ArgumentParser
import Foundation
import Verdict
import VerdictDefaultModel

/// `verdict serve …` runs `verdict-serve …`: the HTTP server is an executable of its own (like
/// text-embeddings-inference's router), so that `verdict` builds without SwiftNIO and Hummingbird
/// (docs/Server.md). It is looked up beside the running `verdict`, then on `PATH`; every argument,
/// `--help` included, goes to it unchanged, and it replaces this process (same id, signals, exit status).
struct ServeForwardingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over HTTP, as text-embeddings-inference does (runs verdict-serve; 'verdict serve --help' for its options).",
        helpNames: [])

    @Argument(parsing: .captureForPassthrough, help: "Arguments of verdict-serve.") var arguments: [String] = []

    func run() throws {
        guard let server = Self.serverExecutable() else {
            FileHandle.standardError.write(Data(("error: verdict serve needs the verdict-serve executable, which was not found beside "
                + "\(DefaultModelResource.runningExecutable()?.path ?? "verdict") or on PATH: build it with `swift build --product verdict-serve` "
                + "(`swift build` builds both; `make install` installs both)\n").utf8))
            throw ExitCode.failure
        }
        let argv = [server.path] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        execv(server.path, &cArguments)
        FileHandle.standardError.write(Data("error: cannot run \(server.path): \(String(cString: strerror(errno)))\n".utf8))
        throw ExitCode.failure
    }

    /// `verdict-serve` beside the running executable, else the first on `PATH`.
    static func serverExecutable() -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let me = DefaultModelResource.runningExecutable() { candidates.append(me.deletingLastPathComponent().appendingPathComponent("verdict-serve")) }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(URL(fileURLWithPath: String(folder)).appendingPathComponent("verdict-serve"))
        }
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }
    }
}
