import ArgumentParser
import Foundation
import Verdict
import VerdictServer

/// `verdict serve`: an HTTP server for a classifier (TEI-compatible routes; see docs/Server.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a classifier over HTTP (POST /predict, /tokenize; GET /info, /health, /metrics).")

    @Option(help: "Model folder or cached Hub id (default: the bundled sentiment model).") var model: String?
    @Option(help: "Number format of the Linear layers: float32 or int8 (dynamic quantisation); default: the checkpoint's own.") var dtype: InferencePrecision?
    @Option(help: "Interface to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "Most inputs one request may carry.") var maxClientBatchSize = 32
    @Option(help: "Most inputs per forward pass, across concurrent requests.") var maxBatchInputs = 64
    @Option(help: "Most inputs waiting for the model before requests get 429.") var maxQueuedInputs = 512
    @Option(help: "Largest request body in bytes.") var maxRequestBytes = 2 << 20
    @Flag(help: "Truncate too-long inputs unless a request says \"truncate\": false.") var autoTruncate = false

    func run() async throws {
        var settings = ServerConfiguration()
        settings.host = host
        settings.port = port
        settings.maxClientBatchSize = maxClientBatchSize
        settings.maxBatchInputs = maxBatchInputs
        settings.maxQueuedInputs = maxQueuedInputs
        settings.maxRequestBytes = maxRequestBytes
        settings.autoTruncate = autoTruncate
        let classifier = try reportingErrors { () -> TextClassificationPipeline in
            settings.modelID = try model ?? DefaultModel.path()
            return try pipeline(.textClassification, model: settings.modelID, precision: dtype)
        }
        let server = ClassificationServer(pipeline: classifier, configuration: settings)
        let (host, modelID) = (self.host, settings.modelID)
        try await server.run { port in
            print("Serving \(modelID) on http://\(host):\(port)")
            fflush(nil)   // all C streams: print is line-buffered only on a terminal (nil avoids the global stdout)
        }
    }
}
