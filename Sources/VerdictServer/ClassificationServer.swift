import Foundation
import HTTPTypes
import Hummingbird
import VerdictJSON
import VerdictPipelines
import VerdictTokenizers

/// Settings of `ClassificationServer` (the flags of `verdict serve`).
public struct ServerConfiguration: Sendable {
    /// Interface to listen on.
    public var host = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (reported to `onListening`).
    public var port = 8080
    /// Most inputs one request may carry.
    public var maxClientBatchSize = 32
    /// Most inputs per forward pass, across concurrent requests.
    public var maxBatchInputs = 64
    /// Most inputs waiting for the model before requests are refused with 429.
    public var maxQueuedInputs = 512
    /// Largest request body in bytes (413 beyond).
    public var maxRequestBytes = 2 << 20
    /// Truncate inputs that are too long when a request does not say (`truncate` in the body).
    public var autoTruncate = false
    /// The id `/info` reports.
    public var modelID = ""

    public init() {}
}

/// An HTTP server for a text classification pipeline, compatible with the classification routes
/// of Hugging Face text-embeddings-inference (TEI):
///
/// - `POST /predict` — `{"inputs": …, "truncate": false, "raw_scores": false}` → labels and scores
/// - `POST /tokenize` — `{"inputs": …, "add_special_tokens": true}` → tokens with byte offsets
/// - `GET /info`, `GET /health`, `GET /metrics` (Prometheus)
///
/// Inputs of concurrent requests are batched together into one forward pass (`InferenceQueue`).
/// See docs/Server.md.
public final class ClassificationServer: Sendable {
    let pipeline: TextClassificationPipeline
    let configuration: ServerConfiguration
    let queue: InferenceQueue
    let metrics = ServerMetrics()

    public init(pipeline: TextClassificationPipeline, configuration: ServerConfiguration = ServerConfiguration()) {
        self.pipeline = pipeline
        self.configuration = configuration
        queue = InferenceQueue(pipeline: pipeline, maxBatchInputs: configuration.maxBatchInputs,
                               maxQueuedInputs: configuration.maxQueuedInputs, metrics: metrics)
    }

    /// Serves until SIGINT or SIGTERM, then finishes queued work and returns.
    /// `onListening` gets the bound port once the server accepts connections.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let port = configuration.port
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: port), serverName: "verdict"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }
        )
        defer { queue.shutdown() }
        try await app.runService()
    }

    /// The routes, without a listening socket (tests drive it directly).
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in Response(status: .ok) }
        router.get("/info") { [self] _, _ in JSONResponse.make(info) }
        router.get("/metrics") { [self] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            let text = metrics.render(waiting: queue.waitingInputs)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("/predict") { [self] request, _ in await respond("/predict", request) { try await predict($0) } }
        router.post("/tokenize") { [self] request, _ in await respond("/tokenize", request) { try tokenize($0) } }
        return router
    }

    /// Reads the body, runs `handler`, turns `ServerError`s into JSON error responses and records
    /// metrics; `handler` returns the response and how many inputs and tokens it classified.
    private func respond(_ route: String, _ request: Request, _ handler: (Data) async throws -> (Response, Int, Int)) async -> Response {
        let start = DispatchTime.now()
        let response: Response
        var inputs = 0, tokens = 0
        do {
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: configuration.maxRequestBytes)
            } catch {
                throw ServerError.tooLarge("the request body is larger than \(configuration.maxRequestBytes) bytes")
            }
            (response, inputs, tokens) = try await handler(Data(body.readableBytesView))
        } catch let error as ServerError {
            response = error.response
        } catch {
            response = ServerError.tokenizer("\(error)").response
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        metrics.recordRequest(route: route, status: response.status.code, seconds: seconds, inputs: inputs, tokens: tokens)
        return response
    }

    /// `POST /predict`: every label with its score (softmax or sigmoid, or logits with
    /// `raw_scores`), best first; an array of those per input for a batch.
    private func predict(_ body: Data) async throws -> (Response, Int, Int) {
        let started = DispatchTime.now()
        let request = try PredictRequest(body: body)
        if request.inputs.count > configuration.maxClientBatchSize {
            throw ServerError.tooLarge("batch size \(request.inputs.count) > maximum allowed batch size \(configuration.maxClientBatchSize)")
        }
        let truncate = request.truncate ?? configuration.autoTruncate
        let encodings = try encode(request.inputs, truncate: truncate)
        let tokenized = DispatchTime.now()
        let (logits, timing) = try await queue.logits(encodings)
        let function: ScoreFunction = request.rawScores ? .none : .automatic
        let results: [JSONValue] = logits.map { row in
            .array(pipeline.scores(row, functionToApply: function, topK: .all).map {
                .object([("score", .double(Double($0.score))), ("label", .string($0.label))])
            })
        }
        let tokens = encodings.reduce(0) { $0 + $1.ids.count }
        let characters = request.inputs.reduce(0) { $0 + $1.text.unicodeScalars.count + ($1.pair?.unicodeScalars.count ?? 0) }
        let total = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        var headers = HTTPFields()
        func ms(_ seconds: Double) -> String { String(Int((seconds * 1000).rounded())) }
        headers[HTTPField.Name("x-compute-characters")!] = String(characters)
        headers[HTTPField.Name("x-compute-tokens")!] = String(tokens)
        headers[HTTPField.Name("x-total-time")!] = ms(total)
        headers[HTTPField.Name("x-tokenization-time")!] = ms(Double(tokenized.uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
        headers[HTTPField.Name("x-queue-time")!] = ms(timing.queue)
        headers[HTTPField.Name("x-inference-time")!] = ms(timing.inference)
        let value: JSONValue = request.isBatch ? .array(results) : results[0]
        return (JSONResponse.make(value, headers: headers), request.inputs.count, tokens)
    }

    /// Tokenizes inputs and checks each fits the model.
    private func encode(_ inputs: [PredictInput], truncate: Bool) throws -> [Encoding] {
        // Singles and pairs go to the tokenizer as two batches; results keep input order.
        var byIndex = [Encoding?](repeating: nil, count: inputs.count)
        for isPair in [false, true] {
            let group = inputs.indices.filter { (inputs[$0].pair != nil) == isPair }
            if group.isEmpty { continue }
            let seconds = isPair ? group.map { inputs[$0].pair ?? "" } : nil
            let encoded = try pipeline.encode(group.map { inputs[$0].text }, pairs: seconds, truncate: truncate)
            for (i, e) in zip(group, encoded) { byIndex[i] = e }
        }
        let encodings = byIndex.compactMap { $0 }
        if let i = encodings.firstIndex(where: { $0.ids.count > pipeline.maxLength }) {
            throw ServerError.tooLarge(
                "Input validation error: `inputs` must have at most \(pipeline.maxLength) tokens. Given: \(encodings[i].ids.count) (input \(i)); send \"truncate\": true to cut it")
        }
        return encodings
    }

    /// `POST /tokenize`: per input, its tokens with ids, whether special, and UTF-8 byte offsets
    /// into the input (`null` for special tokens), as TEI returns them.
    private func tokenize(_ body: Data) throws -> (Response, Int, Int) {
        let request = try TokenizeRequest(body: body)
        if request.inputs.count > configuration.maxClientBatchSize {
            throw ServerError.tooLarge("batch size \(request.inputs.count) > maximum allowed batch size \(configuration.maxClientBatchSize)")
        }
        let options = TokenizationOptions(addSpecialTokens: request.addSpecialTokens)
        let encodings = try pipeline.tokenizer.encodeBatch(request.inputs, options: options)
        let rows: [JSONValue] = zip(request.inputs, encodings).map { text, encoding in
            let utf8 = Array(text.utf8)
            var byteOffset = [0]  // byteOffset[k]: UTF-8 offset of scalar k
            for s in text.unicodeScalars { byteOffset.append(byteOffset[byteOffset.count - 1] + UTF8.width(s)) }
            return .array(encoding.ids.indices.map { k in
                let special = encoding.specialTokensMask[k] == 1
                var start: Int? = nil, stop: Int? = nil
                var tokenText = encoding.tokens[k]
                if !special, encoding.offsets[k].end < byteOffset.count {
                    let (a, b) = (byteOffset[encoding.offsets[k].start], byteOffset[encoding.offsets[k].end])
                    (start, stop) = (a, b)
                    tokenText = String(decoding: utf8[a..<b], as: UTF8.self)
                }
                return .object([("id", .int(encoding.ids[k])), ("text", .string(tokenText)), ("special", .bool(special)),
                                ("start", start.map { .int($0) } ?? .null), ("stop", stop.map { .int($0) } ?? .null)])
            })
        }
        return (JSONResponse.make(.array(rows)), 0, 0)
    }

    /// `GET /info`: what is served and the limits.
    var info: JSONValue {
        let labels = pipeline.model.config.labels
        let id2label: JSONValue = .object(labels.enumerated().map { (String($0.offset), .string($0.element)) })
        return .object([
            ("model_id", .string(configuration.modelID)),
            ("model_dtype", .string(pipeline.model.parameters.precision.rawValue)),   // "float32", or "int8" with --dtype int8
            ("model_type", .object([("classifier", .object([("id2label", id2label)]))])),
            ("max_concurrent_requests", .int(configuration.maxQueuedInputs)),
            ("max_input_length", .int(pipeline.maxLength)),
            ("max_batch_requests", .int(configuration.maxBatchInputs)),
            ("max_client_batch_size", .int(configuration.maxClientBatchSize)),
            ("auto_truncate", .bool(configuration.autoTruncate)),
            ("version", .string("verdict")),
        ])
    }
}
