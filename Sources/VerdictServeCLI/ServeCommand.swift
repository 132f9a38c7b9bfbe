import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictServer

/// `verdict-serve` (also run as `verdict serve`): an HTTP server compatible with
/// text-embeddings-inference (see docs/Server.md). An executable of its own, as TEI's router is,
/// so that `verdict` builds without SwiftNIO and Hummingbird. Flags take TEI's names too
/// (`--max-concurrent-requests`, `--payload-limit`, …), so a TEI command line works unchanged.
@main
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict-serve",
        abstract: "Serve a model over HTTP, as text-embeddings-inference does (POST /predict, /rerank, /embed, /tokenize, /decode; GET /info, /health, /metrics, /openapi.json).",
        discussion: "A …ForSequenceClassification model serves /predict (and /rerank when it has one output); any other encoder serves /embed.",
        version: CommandVersion.string)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Embedding models: cls, mean or last-token (default: the folder's 1_Pooling/config.json, else mean).") var pooling: SentencePooling?
    @Option(help: "Interface to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "Clients must send 'Authorization: Bearer KEY' (default: $API_KEY, else no key).") var apiKey: String?
    @Option(help: "Most inputs one request may carry.") var maxClientBatchSize = 32
    @Option(name: [.customLong("max-batch-inputs"), .customLong("max-batch-requests")], help: "Most inputs per forward pass, across concurrent requests.")
    var maxBatchInputs = 64
    @Option(help: "Most tokens per forward pass, across concurrent requests (a larger request runs alone).") var maxBatchTokens = 16384
    @Option(name: [.customLong("max-queued-inputs"), .customLong("max-concurrent-requests")], help: "Most inputs waiting for the model before requests get 429.")
    var maxQueuedInputs = 512
    @Option(name: [.customLong("max-request-bytes"), .customLong("payload-limit")], help: "Largest request body in bytes (413 beyond).")
    var maxRequestBytes = 2_000_000
    @Option(help: "Longest wait in milliseconds for requests still being tokenized to join a forward pass.") var maxBatchWaitMs = 2.0
    @Option(help: "Seconds a request may wait for the model before it gets 429.") var requestTimeout = 60.0
    @Flag(inversion: .prefixedNo, help: "Truncate too-long inputs unless a request says \"truncate\": false.") var autoTruncate = true

    func validate() throws {
        for (name, value) in [("--max-client-batch-size", maxClientBatchSize), ("--max-batch-inputs", maxBatchInputs),
                              ("--max-batch-tokens", maxBatchTokens), ("--max-queued-inputs", maxQueuedInputs), ("--max-request-bytes", maxRequestBytes)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 (got \(value))")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535, or 0 for any free port (got \(port))") }
        guard maxBatchWaitMs >= 0, maxBatchWaitMs.isFinite else { throw ValidationError("--max-batch-wait-ms must be 0 or more (got \(maxBatchWaitMs))") }
        guard requestTimeout > 0, requestTimeout.isFinite else { throw ValidationError("--request-timeout must be more than 0 seconds (got \(requestTimeout))") }
        if let apiKey, apiKey.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--api-key is empty: every request would be refused; give a key, or leave the flag out to serve without one")
        }
        guard maxClientBatchSize <= maxQueuedInputs else {
            throw ValidationError("--max-client-batch-size (\(maxClientBatchSize)) is above --max-queued-inputs (\(maxQueuedInputs)): requests that large could never be queued; raise --max-queued-inputs or lower --max-client-batch-size")
        }
    }

    func run() async throws {
        runningWithOneMallocArena()
        Allocator.keepFreedMemoryForReuse()
        var settings = ServerConfiguration()
        settings.host = host
        settings.port = port
        settings.apiKey = apiKey ?? ProcessInfo.processInfo.environment["API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        settings.maxClientBatchSize = maxClientBatchSize
        settings.maxBatchInputs = maxBatchInputs
        settings.maxBatchTokens = maxBatchTokens
        settings.maxQueuedInputs = maxQueuedInputs
        settings.maxRequestBytes = maxRequestBytes
        settings.maxBatchWait = maxBatchWaitMs / 1000
        settings.requestTimeout = requestTimeout
        settings.autoTruncate = autoTruncate
        settings.version = VerdictVersion.current
        settings.buildCommit = KernelInfo.buildCommit
        let served = try reportingErrors { () -> ServedModel in
            settings.modelID = try modelOptions.model ?? DefaultModel.path()
            let folder = try resolveModelFolder(settings.modelID)
            settings.modelSHA = ServerConfiguration.hubCommit(inPath: folder.path)
            return try ServedModel.load(folder.path, pooling: pooling, precision: modelOptions.dtype)
        }
        let server = InferenceServer(model: served, configuration: settings)
        let (host, modelID) = (self.host, settings.modelID)
        do {
            try await server.run { port in
                print("Serving \(modelID) on http://\(host):\(port)")
                fflush(nil)   // all C streams: print is line-buffered only on a terminal (nil avoids the global stdout)
            }
        } catch {
            // The socket layer's own words ("bind(descriptor:ptr:bytes:): … (errno: 98)") say what, not where.
            let text = "\(error)"
            let reason = text.contains("Address already in use") ? "is already in use by another program; choose another with --port (0: any free port)"
                : text.contains("Permission denied") ? "may not be opened by this user (ports below 1024 need privileges); choose another with --port"
                : text.contains("Cannot assign requested address") || text.contains("resolve") ? "is not an address of this machine; check --host"
                : nil
            guard let reason else { throw error }
            FileHandle.standardError.write(Data("error: cannot listen on \(host):\(port): the address \(reason)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// glibc gives threads malloc arenas of their own; in a server, the freed pages of large request
/// bodies stay scattered over them and resident memory only grows (docs/Server.md: +15–35 % after
/// 2,000 hostile bodies, 0.4 % with one arena). The arena count must be set before the process's
/// first threads allocate, so `serve` re-executes itself once with `MALLOC_ARENA_MAX=1` unless the
/// variable is already set (set it to choose another value). Same process id, same arguments.
private func runningWithOneMallocArena() {
    #if os(Linux)
    guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
    setenv("MALLOC_ARENA_MAX", "1", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)   // returns only if it failed: go on as we are
    #endif
}
