import ArgumentParser
import Dispatch
import Foundation
import Verdict

/// `verdict bench-tokenizer`: load time and batch-encoding throughput on a file of texts.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure tokenizer load time and batch encoding throughput (texts/s, tokens/s).", shouldDisplay: false
    )

    @Option(name: .long, help: "A model folder.")
    var model: String

    @Option(name: .long, help: "A TSV/text file; with --column, the named column of a TSV with a header.")
    var input: String

    @Option(name: .long, help: "Column name for TSV input (default: whole lines).")
    var column: String?

    @Option(name: .long, help: "Repetitions; the best is reported.")
    var repeats = 5

    func run() throws {
        // The first load in a process also pays one-time set-up; both it and the best are reported.
        var loadTimes: [Double] = []
        var loaded: Tokenizer?
        for _ in 0..<max(1, repeats) {
            let t0 = DispatchTime.now()
            loaded = try AutoTokenizer.from(folder: URL(fileURLWithPath: model))
            loadTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e6)
        }
        guard let tokenizer = loaded else { return }
        let texts = try TSVTexts.read(path: input, column: column)
        var best = Double.infinity
        var tokens = 0
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            let encodings = try tokenizer.encodeBatch(texts, options: TokenizationOptions(truncation: .longestFirst))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            best = min(best, seconds)
            tokens = encodings.reduce(0) { $0 + $1.count }
        }
        let report: [String: Any] = [
            "texts": texts.count, "tokens": tokens, "load_ms": loadTimes.min() ?? 0, "first_load_ms": loadTimes[0], "seconds": best,
            "texts_per_s": Double(texts.count) / best, "tokens_per_s": Double(tokens) / best,
            "threads": ProcessInfo.processInfo.activeProcessorCount,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Minimal reader for the benchmark inputs: TSV with RFC 4180 quoting and a header.
enum TSVTexts {
    static func read(path: String, column: String?) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        guard let column else { return text.split(separator: "\n").map(String.init) }
        let rows = parse(text)
        guard let header = rows.first, let index = header.firstIndex(of: column) else {
            throw ValidationError("\(path): no column named \(column)")
        }
        return rows.dropFirst().compactMap { $0.count > index ? $0[index] : nil }
    }

    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false
        var it = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = it.next() { if n == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "\t" {
                row.append(field); field = ""
            } else if c == "\n" {
                row.append(field); field = ""; rows.append(row); row = []
            } else if c != "\r" {
                field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
