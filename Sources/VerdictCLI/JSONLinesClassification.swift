import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictJSON

/// One slice of an input split `count` ways: `--shard 2/8` takes the non-blank lines whose
/// 0-based index k has k % 8 == 2. Every line belongs to exactly one of the `count` shards.
struct Shard: ExpressibleByArgument, Equatable {
    var index: Int
    var count: Int

    static let whole = Shard(index: 0, count: 1)

    init(index: Int, count: Int) { (self.index, self.count) = (index, count) }

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        (index, count) = (i, n)
    }

    static var defaultCompletionKind: CompletionKind { .default }

    func contains(_ k: Int) -> Bool { k % count == index }
}

/// `verdict classify --jsonl`: classifies JSON Lines as a stream. Each input line is a JSON
/// object; its text is the string at `textField`. Each output line is the input line byte for
/// byte (every field passed through, in order, numbers untouched) with one member added:
/// `"<outputField>": {"label": …, "score": …}` (plus `"labels"` when more than one label is asked
/// for). Lines are read and written `chunkSize` at a time, so memory stays flat however long the
/// input is, and the output keeps input order. Blank lines are skipped and not counted.
struct JSONLinesClassification {
    let classifier: TextClassificationPipeline
    let textField: String
    let outputField: String
    let shard: Shard
    let topK: TopK
    let function: ScoreFunction
    let batchSize: Int
    /// Report an invalid line on standard error and go on, instead of stopping at it.
    var skipInvalid = false
    var chunkSize: Int { max(batchSize * 8, 256) }

    /// A line that cannot be classified, named by its line number.
    struct InvalidLine: Error, CustomStringConvertible {
        let source: String
        let line: Int
        let reason: String
        var description: String { "\(source) line \(line): \(reason)" }
    }

    /// Reads `input` to its end and writes a line per selected input line to `output`.
    func run(input: LineReader, output: FileHandle) throws {
        var pending: [(line: [UInt8], text: String, isEmptyObject: Bool)] = []
        var index = 0
        while let (number, line) = try input.next() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            defer { index += 1 }
            guard shard.contains(index) else { continue }
            do {
                pending.append(try parse(line, number: number, source: input.name))
            } catch let error as InvalidLine where skipInvalid {
                FileHandle.standardError.write(Data("skipped: \(error)\n".utf8))
                continue
            }
            if pending.count == chunkSize {
                try classify(pending, to: output)
                pending.removeAll(keepingCapacity: true)
            }
        }
        try classify(pending, to: output)
    }

    private func parse(_ line: [UInt8], number: Int, source: String) throws -> (line: [UInt8], text: String, isEmptyObject: Bool) {
        let value: JSONValue
        do { value = try JSONParser.parse(Data(line)) } catch {
            throw InvalidLine(source: source, line: number, reason: "not valid JSON: \(error)")
        }
        guard case .object(let members) = value else { throw InvalidLine(source: source, line: number, reason: "expected a JSON object") }
        let root = JSONNode(value: value, file: source)
        guard let text = root[textField]?.stringValue else {
            throw InvalidLine(source: source, line: number, reason: "no string field \"\(textField)\" (choose the field with --text-field)")
        }
        if members.contains(where: { $0.0 == outputField }) {
            throw InvalidLine(source: source, line: number, reason: "the object already has a field \"\(outputField)\" (name the added field with --output-field)")
        }
        // The object's closing brace is the last non-blank byte: the output is inserted before it.
        var end = line.count
        while end > 0, [0x20, 0x09, 0x0D].contains(line[end - 1]) { end -= 1 }
        return (Array(line[..<(end - 1)]), text, members.isEmpty)
    }

    private func classify(_ lines: [(line: [UInt8], text: String, isEmptyObject: Bool)], to output: FileHandle) throws {
        if lines.isEmpty { return }
        let results = try classifier(lines.map(\.text), topK: topK, functionToApply: function, batchSize: batchSize)
        var out: [UInt8] = []
        for (entry, scores) in zip(lines, results) {
            guard let best = scores.first else { continue }
            var prediction: [(String, JSONValue)] = [("label", .string(best.label)), ("score", .double(Double(best.score)))]
            if topK != .one {
                prediction.append(("labels", .array(scores.map { .object([("label", .string($0.label)), ("score", .double(Double($0.score)))]) })))
            }
            out += entry.line
            if !entry.isEmptyObject { out.append(UInt8(ascii: ",")) }
            out += Array(JSONValue.string(outputField).serialized().utf8)
            out.append(UInt8(ascii: ":"))
            out += Array(JSONValue.object(prediction).serialized().utf8)
            out += [UInt8(ascii: "}"), UInt8(ascii: "\n")]
        }
        try output.write(contentsOf: out)
    }
}

/// Reads a file descriptor line by line as raw bytes (no decoding, so a JSON line's bytes can be
/// passed through exactly), 64 KiB at a time; a UTF-8 byte-order mark at the start is skipped.
final class LineReader {
    let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var lineNumber = 0

    /// Standard input.
    init() { (name, fd, ownsDescriptor) = ("standard input", 0, false) }

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        (name, self.fd, ownsDescriptor) = (path, fd, true)
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// The next line (1-based number, bytes without the newline), or nil at the end.
    func next() throws -> (Int, [UInt8])? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                return take(upTo: newline, skipping: 1)
            }
            if atEnd {
                return start < buffer.count ? take(upTo: buffer.count, skipping: 0) : nil
            }
            buffer.removeFirst(start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetError.unreadableFile(path: name, reason: String(cString: strerror(errno)))
            }
            if n == 0 { atEnd = true } else { buffer += chunk[..<n] }
        }
    }

    private func take(upTo end: Int, skipping separator: Int) -> (Int, [UInt8]) {
        var line = Array(buffer[start..<end])
        start = end + separator
        lineNumber += 1
        if lineNumber == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        return (lineNumber, line)
    }
}
