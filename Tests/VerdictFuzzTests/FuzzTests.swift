import Foundation
import VerdictTestSupport
import XCTest
@testable import VerdictDatasets
@testable import VerdictHub
import VerdictJSON
@testable import VerdictModels
@testable import VerdictServer
import VerdictTensor
@testable import VerdictTokenizers

/// Seeded mutation fuzzing of every reader that takes bytes a user or a file controls: each target
/// starts from valid inputs, applies random byte-level and structure-aware mutations, and feeds
/// the result to the reader, which must return or throw, never crash (a crash fails the run).
///
/// `swift test` runs a short, reproducible round (`VERDICT_FUZZ_ITERATIONS`, default 1,000 inputs
/// per target: 11,000 inputs and 200 model batches). The long run is `tools/fuzz.sh`: the same
/// harnesses in release, each in its own process, with more inputs and the current input saved
/// before each call, so a crash leaves it behind (docs/Reliability.md).
///
/// Inputs that once crashed a reader live in `Fixtures/fuzz/<target>/` and are replayed first.
final class FuzzTests: XCTestCase {
    static let root = Repository.root
    static let iterations = Int(ProcessInfo.processInfo.environment["VERDICT_FUZZ_ITERATIONS"] ?? "") ?? 1000
    static let seed = UInt64(ProcessInfo.processInfo.environment["VERDICT_FUZZ_SEED"] ?? "") ?? 20261129
    static let saveFolder = ProcessInfo.processInfo.environment["VERDICT_FUZZ_SAVE"].map { URL(fileURLWithPath: $0) }

    /// Runs the regression inputs, then `iterations` mutants of the seeds, through `body`.
    private func fuzz(_ name: String, seeds: [Data], dictionary: [String] = [], _ body: (Data) throws -> Void) {
        let regressions = Self.root.appendingPathComponent("Fixtures/fuzz/\(name)")
        let saved = (try? FileManager.default.contentsOfDirectory(at: regressions, includingPropertiesForKeys: nil)) ?? []
        for file in saved.sorted(by: { $0.path < $1.path }) where file.pathExtension == "bin" {
            if let data = try? Data(contentsOf: file) { _ = try? body(data) }
        }
        var mutator = Mutator(seed: Self.seed ^ fnv(name), dictionary: dictionary.map { Data($0.utf8) })
        // With VERDICT_FUZZ_SAVE each input is written (one pwrite into a file kept open, which the
        // kernel keeps when the process dies) before it runs: after a crash it is the culprit.
        var savedInput: Int32 = -1
        if let folder = Self.saveFolder {
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            savedInput = open(folder.appendingPathComponent("\(name)-current.bin").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        }
        defer { if savedInput >= 0 { close(savedInput) } }
        // The seeds themselves are valid: mutants start from inputs that reach deep into the reader.
        for (i, seed) in seeds.enumerated() { XCTAssertNoThrow(try body(seed), "\(name) seed \(i)") }
        var rejected = 0
        let start = Date()
        for i in 0..<Self.iterations {
            let input = mutator.mutate(seeds[i % seeds.count])
            if savedInput >= 0 { input.withUnsafeBytes { _ = ftruncate(savedInput, 0); _ = pwrite(savedInput, $0.baseAddress, $0.count, 0) } }
            do { try body(input) } catch { rejected += 1 }
        }
        let seconds = Date().timeIntervalSince(start)
        print("fuzz \(name): \(Self.iterations) inputs (seed \(Self.seed)) in \(String(format: "%.1f", seconds)) s "
              + "(\(Int(Double(Self.iterations) / max(seconds, 1e-9)))/s), \(rejected) rejected with an error, no crash; \(saved.count) regression inputs replayed")
    }

    private func fnv(_ s: String) -> UInt64 { s.utf8.reduce(14695981039346656037) { ($0 ^ UInt64($1)) &* 1099511628211 } }

    private func fixture(_ path: String) throws -> Data { try Data(contentsOf: Self.root.appendingPathComponent(path)) }

    private static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-fuzz-\(getpid())")

    private var temporary: URL {
        try? FileManager.default.createDirectory(at: Self.scratch, withIntermediateDirectories: true)
        return Self.scratch
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: scratch)
        super.tearDown()
    }

    // MARK: checkpoints

    func testSafeTensors() throws {
        let small = temporary.appendingPathComponent("small.safetensors")
        try SafeTensorsFile.write([("a.weight", Tensor(shape: [2, 3], repeating: 1)), ("a.bias", Tensor(shape: [2], repeating: 0.5))], to: small)
        try SafeTensorsFile.write(stored: [.init(name: "q.weight", dtype: .int8, shape: [2, 4], bytes: Data([1, 2, 3, 4, 5, 6, 7, 8])),
                                           .init(name: "q.weight_scale", Tensor(shape: [2], repeating: 0.1), dtype: .float32)],
                                  to: temporary.appendingPathComponent("int8.safetensors"))
        let seeds = [try Data(contentsOf: small), try Data(contentsOf: temporary.appendingPathComponent("int8.safetensors"))]
        fuzz("safetensors", seeds: seeds, dictionary: ["\"dtype\"", "\"F16\"", "\"I8\"", "\"shape\"", "[4294967296,4294967296]", "\"data_offsets\"", "[0,18446744073709551615]", "_scale"]) { data in
            let file = try SafeTensorsFile(data: data, path: "fuzz.safetensors")
            for name in file.names {
                if file.isQuantizedWeight(name) { _ = try file.quantizedMatrix(name) } else { _ = try file.tensor(name) }
            }
        }
    }

    func testTorchPickle() throws {
        let seeds = [try fixture("Fixtures/hostile/valid.bin"), try fixture("Fixtures/models/tiny-bert-bin-fp32/pytorch_model.bin")]
        fuzz("pickle", seeds: seeds, dictionary: ["torch._utils", "_rebuild_tensor_v2", "collections\nOrderedDict", "posix\nsystem"]) { data in
            let file = try TorchCheckpoint(data: data, path: "fuzz.bin")
            for name in file.names { _ = try file.tensor(name) }
        }
    }

    func testGGUF() throws {
        fuzz("gguf", seeds: [Self.smallGGUF()], dictionary: ["general.architecture", "llama", "token_embd.weight"]) { data in
            let file = try GGUFFile(data: data, path: "fuzz.gguf")
            for info in file.tensors { _ = try file.huggingFaceTensor(info) }
            _ = try? file.huggingFaceConfig()   // the seed has too little metadata for a config: reached, errors expected
        }
    }

    func testConfigJSON() throws {
        let seeds = try ["Fixtures/models/tiny-bert-safetensors-fp32/config.json", "Fixtures/decoders/tiny-gpt2/config.json",
                         "Fixtures/decoders/tiny-llama/config.json", "Fixtures/decoders/tiny-mbart/config.json"].map(fixture)
        fuzz("config", seeds: seeds, dictionary: ["null", "-1", "1e309", "9223372036854775807", "\"id2label\"", "\"quantization_config\"", "{}", "[]"]) { data in
            let config = try ModelConfig(data: data, file: "config.json")
            _ = try makeBackbone(config)
        }
    }

    // MARK: tokenizers

    func testTokenizerJSON() throws {
        let seeds = try ["Fixtures/models/tiny-bert-safetensors-fp32/tokenizer.json", "Fixtures/decoders/tiny-gpt2/tokenizer.json"].map(fixture)
        fuzz("tokenizer-json", seeds: seeds, dictionary: ["\"type\"", "\"BPE\"", "\"WordPiece\"", "\"Split\"", "\"Regex\"", "(?<=", "\\\\p{L}", "null"]) { data in
            let tokenizer = try TokenizerJSON.load(data: data, file: "tokenizer.json")
            _ = try tokenizer.encode("Hello, world! ünïcödé 日本 🙂", pair: "a second segment")
        }
    }

    func testVocabularyAndMerges() throws {
        let folder = temporary
        let vocab = folder.appendingPathComponent("vocab.txt")
        let seeds = [try fixture("Fixtures/models/tiny-bert-safetensors-fp32/vocab.txt").prefix(2000)]
        fuzz("vocab-txt", seeds: seeds.map { Data($0) }, dictionary: ["[UNK]", "[CLS]", "[SEP]", "##", "\n\n"]) { data in
            try data.write(to: vocab)
            var special: [String: String] = [:]
            let tokenizer = try AutoTokenizer.bertWordPiece(vocabURL: vocab, lowercase: true, stripAccents: nil, tokenizeChineseChars: true, special: &special)
            _ = try tokenizer.encode("unaffable tokenization [SEP] x")
        }
        let vocabJSON = folder.appendingPathComponent("vocab.json"), merges = folder.appendingPathComponent("merges.txt")
        try Data(#"{"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4, "<unk>": 5, "Ġ": 6}"#.utf8).write(to: vocabJSON)
        fuzz("merges-txt", seeds: [Data("#version: 0.2\na b\nab c\n".utf8)], dictionary: ["\n", " ", "#version"]) { data in
            try data.write(to: merges)
            var special: [String: String] = [:]
            let tokenizer = try AutoTokenizer.byteLevelBPE(vocabURL: vocabJSON, mergesURL: merges, addPrefixSpace: false, roberta: false, special: &special)
            _ = try tokenizer.encode("abc cab")
        }
    }

    /// Arbitrary bytes (decoded as UTF-8 with replacement) through real tokenizers of each kind.
    func testTokenizersOnArbitraryText() throws {
        let tokenizers = try ["Fixtures/models/tiny-bert-safetensors-fp32", "Fixtures/decoders/tiny-gpt2", "Fixtures/decoders/tiny-llama"]
            .map { try AutoTokenizer.from(folder: Self.root.appendingPathComponent($0)) }
        let seeds = ["Hello, world!", "ünïcödé  \u{0301}\u{200B} 日本語 🙂🏳️‍🌈", "[CLS] [SEP] <s></s><pad>", String(repeating: "a", count: 300)].map { Data($0.utf8) }
        fuzz("tokenizer-text", seeds: seeds, dictionary: ["\u{0}", "\u{FEFF}", "\r\n", "##", "Ġ", "▁"]) { data in
            let text = String(decoding: data, as: UTF8.self)
            for tokenizer in tokenizers {
                _ = try tokenizer.encode(text, pair: text, options: TokenizationOptions(truncation: .longestFirst, maxLength: 16))
                _ = try tokenizer.encode(text)
            }
        }
    }

    // MARK: data files and requests

    func testDelimitedTables() throws {
        let seeds = ["sentence\tlabel\nhello\t1\n\"quoted \"\" tab\"\t0\n", "text,label\n\"a,b\",pos\n\"multi\nline\",neg\n"].map { Data($0.utf8) }
        fuzz("delimited", seeds: seeds, dictionary: ["\"", "\t", ",", "\r\n", "\n\n"]) { data in
            for delimiter in [UInt8(ascii: "\t"), UInt8(ascii: ",")] {
                let table = try DelimitedTable(data: data, path: "fuzz.tsv", delimiter: delimiter)
                for name in table.header { _ = try table.column(name) }
            }
        }
    }

    func testJSONLines() throws {
        let file = temporary.appendingPathComponent("fuzz.jsonl")
        fuzz("jsonl", seeds: [Data("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": \"neg\", \"extra\": true}\n".utf8)],
             dictionary: ["{", "}", "\"", "\\u0000", "\\ud800", "null", "1e999"]) { data in
            try data.write(to: file)
            _ = try Dataset.load(file)
        }
    }

    func testServerRequests() throws {
        let seeds = [#"{"inputs": "I love it", "truncate": true, "raw_scores": false}"#, #"{"inputs": ["a", "b"], "add_special_tokens": false}"#,
                     #"{"inputs": [["a", "b"], ["c", "d"]]}"#, #"{"query": "q", "texts": ["a", "b"], "return_text": true}"#,
                     #"{"inputs": [[101, 2054], "text"], "normalize": false, "dimensions": 8}"#, #"{"ids": [[101, 102], [7592]], "skip_special_tokens": false}"#,
                     #"{"inputs": "x", "truncation_direction": "Left"}"#].map { Data($0.utf8) }
        fuzz("server-request", seeds: seeds, dictionary: ["\"inputs\"", "[[", "]]", "null", "true", "\"truncate\"", "\\u0000", "\"ids\"", "\"texts\"", "\"query\"", "-1", "4294967296", "1e999"]) { data in
            let parsers: [(Data) throws -> Void] = [{ _ = try PredictRequest(body: $0) }, { _ = try TokenizeRequest(body: $0) },
                                                   { _ = try EmbedRequest(body: $0) }, { _ = try RerankRequest(body: $0) }, { _ = try DecodeRequest(body: $0) }]
            let failures = parsers.filter { parse in (try? parse(data)) == nil }.count
            if failures == parsers.count { throw ServerError.validation("every route rejected it") }
        }
    }

    /// Random token ids, token types and lengths through real models: an error, never a trap.
    func testModelInputs() throws {
        let models = try ["Fixtures/models/tiny-bert-safetensors-fp32", "Fixtures/decoders/tiny-llama"]
            .map { try AutoModelForSequenceClassification.from(pretrained: Self.root.appendingPathComponent($0).path) }
        var mutator = Mutator(seed: Self.seed, dictionary: [])
        var rejected = 0
        for i in 0..<max(20, Self.iterations / 5) {
            let model = models[i % models.count]
            let count = 1 + mutator.int(3)
            let ids = (0..<count).map { _ in (0..<mutator.int(20)).map { _ in mutator.int(10) == 0 ? [-1, Int(Int32.max), 1 << 40, model.config.vocabSize][mutator.int(4)] : mutator.int(model.config.vocabSize) } }
            let types = mutator.int(3) == 0 ? ids.map { $0.map { _ in mutator.int(4) - 1 } } : nil
            do { _ = try model.logits(PackedBatch(sequences: ids, tokenTypes: types)) } catch { rejected += 1 }
        }
        print("fuzz model-inputs: \(max(20, Self.iterations / 5)) batches, \(rejected) rejected with an error, no crash")
    }

    /// A minimal GGUF v3 file: one string key and a 4 x 2 F32 `token_embd.weight`.
    static func smallGGUF() -> Data {
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        u32(0x4655_4747); u32(3); u64(1); u64(1)
        string("general.architecture"); u32(8); string("llama")
        string("token_embd.weight"); u32(2); u64(2); u64(4); u32(0); u64(0)
        while d.count % 32 != 0 { d.append(0) }
        for i in 0..<8 { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }
}

/// Seeded byte-level and token-level mutations (VerdictTensor's SplitMix64).
struct Mutator {
    private var random: SplitMix64
    let dictionary: [Data]

    init(seed: UInt64, dictionary: [Data]) { random = SplitMix64(seed: seed); self.dictionary = dictionary }

    mutating func next() -> UInt64 { random.next() }

    mutating func int(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    static let interestingBytes: [UInt8] = [0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x30, 0x39, 0x2d, 0x0a, 0x5c]
    static let interestingNumbers = ["-1", "0", "65536", "4294967295", "4294967296", "9223372036854775807", "18446744073709551616", "1e308", "-1e308", "NaN"]

    /// One to four mutations of `data`.
    mutating func mutate(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        for _ in 0..<(1 + int(4)) {
            let at = int(bytes.count + 1)
            switch int(9) {
            case 0: if !bytes.isEmpty { bytes[int(bytes.count)] ^= UInt8(1 << int(8)) }
            case 1: if !bytes.isEmpty { bytes[int(bytes.count)] = Self.interestingBytes[int(Self.interestingBytes.count)] }
            case 2: if !bytes.isEmpty { let n = min(bytes.count - min(at, bytes.count), 1 + int(16)); bytes.removeSubrange(min(at, bytes.count)..<(min(at, bytes.count) + n)) }
            case 3: bytes.insert(contentsOf: (0..<(1 + int(8))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
            case 4: if !bytes.isEmpty { let s = int(bytes.count), n = min(bytes.count - s, 1 + int(64)); bytes.insert(contentsOf: bytes[s..<(s + n)], at: at) }
            case 5: bytes.removeSubrange(min(at, bytes.count)...)
            case 6:
                // Replace a run of digits (a size, an offset, an id) with an extreme number.
                if let start = (0..<bytes.count).dropFirst(int(bytes.count)).first(where: { (0x30...0x39).contains(bytes[$0]) }) {
                    var end = start
                    while end < bytes.count && (0x30...0x39).contains(bytes[end]) { end += 1 }
                    bytes.replaceSubrange(start..<end, with: Array(Self.interestingNumbers[int(Self.interestingNumbers.count)].utf8))
                }
            case 7: if !dictionary.isEmpty { bytes.insert(contentsOf: dictionary[int(dictionary.count)], at: at) }
            default:
                // Overwrite 8 bytes with an extreme little-endian integer (binary sizes and offsets).
                if bytes.count >= 8 {
                    let s = int(bytes.count - 7)
                    let value: UInt64 = [0, .max, 1 << 32, 1 << 62, UInt64(Int64.max), 0x8000_0000][int(6)]
                    withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[s + i] = b } }
                }
            }
        }
        return Data(bytes)
    }
}
