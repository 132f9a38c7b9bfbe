/// Settings of `InferenceServer` (the flags of `verdict serve`); defaults are text-embeddings-inference's
/// where TEI has the setting.
public struct ServerConfiguration: Sendable {
    /// Interface to listen on.
    public var host = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (reported to `onListening`).
    public var port = 8080
    /// Most inputs one request may carry (TEI's `--max-client-batch-size`).
    public var maxClientBatchSize = 32
    /// Most inputs per forward pass, across concurrent requests (TEI's `--max-batch-requests`).
    public var maxBatchInputs = 64
    /// Most tokens per forward pass, across concurrent requests; a larger request still runs, alone
    /// (TEI's `--max-batch-tokens`).
    public var maxBatchTokens = 16384
    /// Most inputs waiting for the model before requests are refused with 429 (TEI's `--max-concurrent-requests`).
    public var maxQueuedInputs = 512
    /// Largest request body in bytes, 413 beyond (TEI's `--payload-limit`).
    public var maxRequestBytes = 2_000_000
    /// Truncate inputs that are too long when a request does not say (`truncate` in the body; TEI's `--auto-truncate`).
    public var autoTruncate = true
    /// Longest wait, in seconds, for requests still being tokenized to join a forward pass.
    public var maxBatchWait = 0.002
    /// Longest time, in seconds, a request may wait for the model before it is refused with 429.
    public var requestTimeout = 60.0
    /// The key clients must send as `Authorization: Bearer <key>`; nil serves everyone.
    public var apiKey: String?
    /// The id `/info` reports.
    public var modelID = ""
    /// The Hub commit of the model, when it was loaded from the Hub cache (`/info`'s `model_sha`).
    public var modelSHA: String?
    /// `/info`'s `version` and `sha`: Verdict's version and the commit it was built from.
    public var version = ""
    public var buildCommit: String?

    public init() {}

    /// The Hub commit in a cache path `…/snapshots/<commit>/…`, if `path` is one.
    public static func hubCommit(inPath path: String) -> String? {
        let parts = path.split(separator: "/")
        guard let i = parts.firstIndex(of: "snapshots"), i + 1 < parts.count else { return nil }
        let commit = parts[i + 1]
        return commit.count == 40 && commit.allSatisfy(\.isHexDigit) ? String(commit) : nil
    }
}
