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

    var defaultValueDescription: String { "\(index)/\(count)" }

    func contains(_ k: Int) -> Bool { k % count == index }
}

/// `verdict classify --jsonl`: classifies JSON Lines as a stream. Each input line is a JSON
/// object; its text is the string at `textField`. Each output line is the input line byte for
/// byte (every field passed through, in order, numbers untouched, a `\r\n` line ending kept) with one member added:
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

    /// A line waiting for its prediction: its bytes before the closing brace, the bytes after
    /// it (a `\r` or spaces, written back as they were), and its text.
    struct Pending {
        var head: [UInt8]
        var tail: [UInt8]
        var text: String
        var isEmptyObject: Bool
    }

    /// Reads `input` to its end and writes a line per selected input line to `output`.
    func run(input: LineReader, output: FileHandle) throws {
        var pending: [Pending] = []
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

    private func parse(_ line: [UInt8], number: Int, source: String) throws -> Pending {
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
        return Pending(head: Array(line[..<(end - 1)]), tail: Array(line[end...]), text: text, isEmptyObject: members.isEmpty)
    }

    private func classify(_ lines: [Pending], to output: FileHandle) throws {
        if lines.isEmpty { return }
        let results = try classifier(lines.map(\.text), topK: topK, functionToApply: function, batchSize: batchSize)
        var out: [UInt8] = []
        for (entry, scores) in zip(lines, results) {
            guard let best = scores.first else { continue }
            var prediction: [(String, JSONValue)] = [("label", .string(best.label)), ("score", .double(Double(best.score)))]
            if topK != .one {
                prediction.append(("labels", .array(scores.map { .object([("label", .string($0.label)), ("score", .double(Double($0.score)))]) })))
            }
            out += entry.head
            if !entry.isEmptyObject { out.append(UInt8(ascii: ",")) }
            out += Array(JSONValue.string(outputField).serialized().utf8)
            out.append(UInt8(ascii: ":"))
            out += Array(JSONValue.object(prediction).serialized().utf8)
            out.append(UInt8(ascii: "}"))
            out += entry.tail
            out.append(UInt8(ascii: "\n"))
        }
        try output.write(contentsOf: out)
    }
}
