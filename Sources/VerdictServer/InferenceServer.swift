import Foundation
import HTTPTypes
import Hummingbird
import VerdictJSON
import VerdictModels
import VerdictPipelines
import VerdictTensor
import VerdictTokenizers

/// An HTTP server for a model, compatible with Hugging Face text-embeddings-inference (TEI):
///
/// - `POST /predict` (classifiers), `POST /rerank` (single-output classifiers: cross-encoders),
///   `POST /embed` (base encoders); `POST /` and `/invocations` route to the model's own task
/// - `POST /tokenize`, `POST /decode`
/// - `GET /info`, `GET /health` (also `/` and `/ping`), `GET /metrics` (Prometheus),
///   `GET /openapi.json` (also `/api-doc/openapi.json`)
///
/// Errors are TEI's (`ServerError`). Inputs of concurrent requests are batched together into one
/// forward pass (`InferenceQueue`). See docs/Server.md.
public final class InferenceServer: Sendable {
    let model: ServedModel
    let configuration: ServerConfiguration
    let queue: InferenceQueue
    let metrics = ServerMetrics()

    /// Readies the server. Process-wide: the threads created from now on share one malloc arena,
    /// so the memory of large requests goes back to the system when the server idles
    /// (`Allocator.limitArenas(to:)`; resident memory stays flat under hostile bodies, docs/Server.md).
    public init(model: ServedModel, configuration: ServerConfiguration = ServerConfiguration()) {
        Allocator.limitArenas(to: 1)
        self.model = model
        self.configuration = configuration
        queue = InferenceQueue(model: model, limits: .init(
            maxBatchInputs: max(1, configuration.maxBatchInputs), maxBatchTokens: max(1, configuration.maxBatchTokens),
            maxQueuedInputs: max(1, configuration.maxQueuedInputs), maxBatchWait: configuration.maxBatchWait,
            requestTimeout: configuration.requestTimeout), metrics: metrics)
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
        for path in ["/health", "/", "/ping"] { router.get(RouterPath(path)) { _, _ in Response(status: .ok) } }
        router.get("/metrics") { [self] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            let text = metrics.render(waiting: queue.waitingInputs)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        for path in ["/openapi.json", "/api-doc/openapi.json"] {
            router.get(RouterPath(path)) { _, _ in JSONResponse.make(OpenAPIDocument.value) }
        }
        router.get("/info") { [self] request, _ in await respond("/info", request, body: false) { _ in (JSONResponse.make(info), 0, 0) } }
        let routes: [(String, @Sendable (InferenceServer, Data) async throws -> (Response, Int, Int))] = [
            ("/predict", { try await $0.predict($1) }), ("/rerank", { try await $0.rerank($1) }), ("/embed", { try await $0.embed($1) }),
            ("/tokenize", { try $0.tokenize($1) }), ("/decode", { try $0.decode($1) }),
            ("/", { try await $0.invoke($1) }), ("/invocations", { try await $0.invoke($1) }),
        ]
        for (path, handler) in routes {
            router.post(RouterPath(path)) { [self] request, _ in await respond(path, request) { try await handler(self, $0) } }
        }
        return router
    }

    /// Checks the API key and the content type, reads the body (up to the payload limit), runs
    /// `handler`, turns errors into TEI's error responses and records metrics; `handler` returns
    /// the response and how many inputs and tokens it ran through the model.
    private func respond(_ route: String, _ request: Request, body expectsBody: Bool = true,
                         _ handler: (Data) async throws -> (Response, Int, Int)) async -> Response {
        let start = DispatchTime.now()
        let response: Response
        var inputs = 0, tokens = 0
        do {
            if let key = configuration.apiKey, request.headers[.authorization] != "Bearer \(key)" { throw ServerError.unauthorized }
            var body = Data()
            if expectsBody {
                guard Self.isJSON(request.headers[.contentType]) else { throw ServerError.unsupportedMediaType }
                var request = request
                do {
                    body = Data(try await request.collectBody(upTo: configuration.maxRequestBytes).readableBytesView)
                } catch {
                    throw ServerError.tooLarge("Failed to buffer the request body: length limit exceeded (the limit is \(configuration.maxRequestBytes) bytes)")
                }
            }
            (response, inputs, tokens) = try await handler(body)
        } catch let error as ServerError {
            response = error.response
        } catch {
            response = ServerError.tokenizer("tokenizer error \(error)").response
        }
        metrics.recordRequest(route: route, status: response.status.code, seconds: Self.seconds(since: start), inputs: inputs, tokens: tokens)
        return response
    }

    /// `application/json` or `application/<something>+json`, with or without parameters.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    // MARK: - Routes

    /// `POST /` and `/invocations`: the model's own task, as TEI routes them.
    private func invoke(_ body: Data) async throws -> (Response, Int, Int) {
        switch model {
        case .classifier: return model.isReranker ? try await rerank(body) : try await predict(body)
        case .embedder: return try await embed(body)
        }
    }

    /// `POST /predict`: every label with its score (softmax, or sigmoid for one output; logits with
    /// `raw_scores`), best first; an array of those per input for a batch.
    private func predict(_ body: Data) async throws -> (Response, Int, Int) {
        let started = DispatchTime.now()
        let request = try PredictRequest(body: body)
        try checkBatchSize(request.inputs.count)
        guard case .classifier(let pipeline) = model else { throw ServerError.backend("Backend error: Model is not a classifier model") }
        if request.inputs.contains(where: { $0.text.isEmpty && ($0.pair ?? "").isEmpty }) { throw Self.emptyInputs }
        let options = tokenization(truncate: request.truncate, side: request.truncationSide)
        let (rows, timing) = try await inference {
            try encode(request.inputs.map(\.text), pairs: request.inputs.map(\.pair), options: options)
        }
        let function: ScoreFunction = request.rawScores ? .none : .automatic
        let results: [JSONValue] = try rows.rows.map { row in
            let scores = pipeline.scores(row, functionToApply: function, topK: .all)
            if scores.contains(where: { $0.score.isNaN }) { throw ServerError.backend("score is NaN") }
            return .array(scores.map { .object([("score", .double(Double($0.score))), ("label", .string($0.label))]) })
        }
        let characters = request.inputs.reduce(0) { $0 + $1.text.unicodeScalars.count + ($1.pair?.unicodeScalars.count ?? 0) }
        let headers = computeHeaders(started: started, timing: timing, inputs: rows.rows.count, characters: characters, tokens: rows.tokens)
        return (JSONResponse.make(request.isBatch ? .array(results) : results[0], headers: headers), request.inputs.count, rows.tokens)
    }

    /// `POST /rerank`: each text scored as the pair (query, text) by a single-output classifier
    /// (sigmoid, or the logit with `raw_scores`), best first, ties by higher index as in TEI.
    private func rerank(_ body: Data) async throws -> (Response, Int, Int) {
        let started = DispatchTime.now()
        let request = try RerankRequest(body: body)
        if request.texts.isEmpty { throw ServerError.empty("`texts` cannot be empty") }
        guard model.isReranker else { throw ServerError.backend("Backend error: model is not a re-ranker model") }
        try checkBatchSize(request.texts.count)
        if request.query.isEmpty && request.texts.contains(where: \.isEmpty) { throw Self.emptyInputs }
        let options = tokenization(truncate: request.truncate, side: request.truncationSide)
        let (rows, timing) = try await inference {
            try encode(Array(repeating: request.query, count: request.texts.count), pairs: request.texts, options: options)
        }
        let scores = try rows.rows.map { row -> Float in
            let score = request.rawScores ? row[0] : Float(Logits.sigmoid(row[0]))
            if score.isNaN { throw ServerError.backend("score is NaN") }
            return score
        }
        let ranked = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 > $1 }
        let results: [JSONValue] = ranked.map { i in
            .object([("index", .int(i))] + (request.returnText ? [("text", .string(request.texts[i]))] : []) + [("score", .double(Double(scores[i])))])
        }
        let characters = request.query.unicodeScalars.count * request.texts.count + request.texts.reduce(0) { $0 + $1.unicodeScalars.count }
        let headers = computeHeaders(started: started, timing: timing, inputs: rows.rows.count, characters: characters, tokens: rows.tokens)
        return (JSONResponse.make(.array(results), headers: headers), request.texts.count, rows.tokens)
    }

    /// `POST /embed`: one pooled vector per input (L2-normalised unless `normalize` is false, cut
    /// to `dimensions` first when given), always as an array of vectors.
    private func embed(_ body: Data) async throws -> (Response, Int, Int) {
        let started = DispatchTime.now()
        let request = try EmbedRequest(body: body)
        try checkBatchSize(request.inputs.count)
        guard case .embedder(let pipeline) = model else { throw ServerError.backend("Backend error: Model is not an embedding model") }
        if request.dimensions == 0 { throw ServerError.validation("Input validation error: `dimensions` should be positive") }
        let hidden = pipeline.model.config.hiddenSize
        if let d = request.dimensions, d > hidden {
            throw ServerError.validation("Input validation error: `dimensions` should be smaller than the maximum embedding dimension.")
        }
        let options = tokenization(truncate: request.truncate, side: request.truncationSide)
        let (rows, timing) = try await inference { () -> [Encoding] in
            try request.inputs.map { input in
                switch input {
                case .text(let text):
                    if text.isEmpty { throw Self.emptyInputs }
                    return try encode([text], pairs: [nil], options: options)[0]
                case .ids(let ids):
                    if ids.isEmpty { throw Self.emptyInputs }
                    // TEI decodes ids and encodes the text again, adding no special tokens.
                    var plain = options
                    plain.addSpecialTokens = false
                    return try encode([model.tokenizer.decode(ids)], pairs: [nil], options: plain)[0]
                }
            }
        }
        let vectors: [JSONValue] = rows.rows.map { row in
            let kept = Array(row.prefix(request.dimensions ?? row.count))
            let vector = request.normalize ? Pooling.l2Normalized(Tensor(shape: [1, kept.count], scalars: kept)).scalars : kept
            return .array(vector.map { .double(Double($0)) })
        }
        let characters = request.inputs.reduce(0) {
            switch $1 { case .text(let t): return $0 + t.unicodeScalars.count; case .ids(let ids): return $0 + ids.count }
        }
        let headers = computeHeaders(started: started, timing: timing, inputs: rows.rows.count, characters: characters, tokens: rows.tokens)
        return (JSONResponse.make(.array(vectors), headers: headers), request.inputs.count, rows.tokens)
    }

    /// `POST /tokenize`: per input, its tokens with ids, whether special, and UTF-8 byte offsets
    /// into the input (`null` for special tokens), as TEI returns them.
    private func tokenize(_ body: Data) throws -> (Response, Int, Int) {
        let request = try TokenizeRequest(body: body)
        try checkBatchSize(request.inputs.count)
        if request.inputs.contains(where: \.isEmpty) { throw Self.emptyInputs }
        let options = TokenizationOptions(addSpecialTokens: request.addSpecialTokens)
        let encodings = try model.tokenizer.encodeBatch(try request.inputs.map { try bounded($0, options) }, options: options)
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

    /// `POST /decode`: the text of each id list (special tokens skipped unless asked), always an array.
    private func decode(_ body: Data) throws -> (Response, Int, Int) {
        let request = try DecodeRequest(body: body)
        try checkBatchSize(request.ids.count)
        if request.ids.contains(where: \.isEmpty) { throw ServerError.empty("Input validation error: `input_ids` cannot be empty") }
        let texts = request.ids.map { JSONValue.string(model.tokenizer.decode($0, skipSpecialTokens: request.skipSpecialTokens)) }
        return (JSONResponse.make(.array(texts)), 0, 0)
    }

    /// `GET /info`: what is served and the limits, with TEI's fields in TEI's order.
    var info: JSONValue {
        func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            ("model_id", .string(configuration.modelID)),
            ("model_sha", optional(configuration.modelSHA)),
            ("model_dtype", .string(model.precision.rawValue)),   // "float32", "int8" or "bfloat16" (--dtype, or the checkpoint's own)
            ("served_model_name", .string(configuration.modelID)),
            ("model_type", model.typeDescription),
            ("max_concurrent_requests", .int(configuration.maxQueuedInputs)),
            ("max_input_length", .int(model.maxLength)),
            ("max_batch_tokens", .int(configuration.maxBatchTokens)),
            ("max_batch_requests", .int(configuration.maxBatchInputs)),
            ("max_client_batch_size", .int(configuration.maxClientBatchSize)),
            ("auto_truncate", .bool(configuration.autoTruncate)),
            ("tokenization_workers", .int(ProcessInfo.processInfo.activeProcessorCount)),
            ("version", .string(configuration.version)),
            ("sha", optional(configuration.buildCommit)),
            ("docker_label", .null),
        ])
    }

    // MARK: - Shared steps

    private static let emptyInputs = ServerError.empty("Input validation error: `inputs` cannot be empty")

    private func checkBatchSize(_ count: Int) throws {
        if count > configuration.maxClientBatchSize {
            throw ServerError.validation("batch size \(count) > maximum allowed batch size \(configuration.maxClientBatchSize)")
        }
    }

    /// Special tokens added; truncated to the model's length from `side` when the request (or
    /// the server's `autoTruncate`) says so.
    private func tokenization(truncate: Bool?, side: Side) -> TokenizationOptions {
        guard truncate ?? configuration.autoTruncate else { return TokenizationOptions() }
        return TokenizationOptions(truncation: .longestFirst, maxLength: model.maxLength, truncationSide: side)
    }

    /// Tokenizes texts (with optional second segments) and checks that each fits the model.
    private func encode(_ texts: [String], pairs: [String?], options: TokenizationOptions) throws -> [Encoding] {
        let texts = try texts.map { try bounded($0, options) }, pairs = try pairs.map { try $0.map { try bounded($0, options) } }
        var byIndex = [Encoding?](repeating: nil, count: texts.count)
        // Singles and pairs go to the tokenizer as two batches; results keep input order.
        for isPair in [false, true] {
            let group = texts.indices.filter { (pairs[$0] != nil) == isPair }
            if group.isEmpty { continue }
            let encoded = try model.tokenizer.encodeBatch(group.map { texts[$0] }, pairs: isPair ? group.map { pairs[$0] ?? "" } : nil, options: options)
            for (i, e) in zip(group, encoded) { byIndex[i] = e }
        }
        let encodings = byIndex.compactMap { $0 }
        if let long = encodings.first(where: { $0.ids.count > model.maxLength }) {
            throw ServerError.validation("Input validation error: `inputs` must have less than \(model.maxLength) tokens. Given: \(long.ids.count)")
        }
        return encodings
    }

    /// Bounds the work one text can cause before it is tokenized. Without truncation a text over
    /// 250 characters per position is refused (TEI's character limit). With truncation a text over
    /// 64 characters per position is cut to that many first (from the truncated side): the tokens
    /// that survive truncation lie far inside the cut, so the result is the same, but a 2 MB body
    /// no longer makes a million tokens only to drop them.
    private func bounded(_ text: String, _ options: TokenizationOptions) throws -> String {
        let scalars = text.unicodeScalars
        if options.truncation == .none {
            let limit = model.maxLength * 250
            if scalars.count > limit {
                throw ServerError.validation("Input validation error: `inputs` must have less than \(limit) characters. Given: \(scalars.count)")
            }
            return text
        }
        let keep = model.maxLength * 64
        guard scalars.count > keep else { return text }
        return String(options.truncationSide == .left ? scalars.suffix(keep) : scalars.prefix(keep))
    }

    /// Announces a request to the queue, prepares its encodings and waits for the model's rows.
    private func inference(_ prepare: () throws -> [Encoding]) async throws -> (rows: (rows: [[Float]], tokens: Int), timing: InferenceQueue.Timing) {
        queue.announce()
        let encodings: [Encoding]
        do { encodings = try prepare() } catch { queue.withdraw(); throw error }
        let (rows, timing) = try await queue.rows(encodings)
        return ((rows, encodings.reduce(0) { $0 + $1.ids.count }), timing)
    }

    /// TEI's response headers; times in milliseconds, per input for the parts a batch shares.
    private func computeHeaders(started: DispatchTime, timing: InferenceQueue.Timing, inputs: Int, characters: Int, tokens: Int) -> HTTPFields {
        func ms(_ seconds: Double) -> String { String(Int((seconds * 1000).rounded())) }
        let total = Self.seconds(since: started), n = Double(max(inputs, 1))
        var headers = HTTPFields()
        let values: [(String, String)] = [
            ("x-compute-type", "cpu"), ("x-compute-time", ms(total)), ("x-compute-characters", String(characters)),
            ("x-compute-tokens", String(tokens)), ("x-total-time", ms(total)),
            ("x-tokenization-time", ms((total - timing.queue - timing.inference) / n)),
            ("x-queue-time", ms(timing.queue / n)), ("x-inference-time", ms(timing.inference / n)),
        ]
        for (name, value) in values { if let field = HTTPField.Name(name) { headers[field] = value } }
        return headers
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- start.uptimeNanoseconds) / 1e9
    }
}
