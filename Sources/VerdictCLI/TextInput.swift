import ArgumentParser
import Foundation
import Verdict
import VerdictJSON

/// Where `classify` and `embed` read texts: arguments, `--input FILE --column NAME`
/// (CSV/TSV/JSONL), or one text per line of standard input.
struct TextInput: ParsableArguments {
    @Option(help: "Read texts from a CSV, TSV or JSONL file.") var input: String?
    @Option(help: "Column (CSV/TSV) or key (JSONL) holding the text.") var column: String = "sentence"
    @Argument(help: "Texts; none reads one text per line from standard input.") var texts: [String] = []

    func read() throws -> [String] {
        if !texts.isEmpty { return texts }
        if let input {
            let url = URL(fileURLWithPath: input)
            if url.pathExtension.lowercased() == "jsonl" {
                guard let data = FileManager.default.contents(atPath: input) else { throw DatasetError.unreadableFile(path: input, reason: "cannot open") }
                return try data.split(separator: UInt8(ascii: "\n")).enumerated().compactMap { (i, line) -> String? in
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { return nil }
                    do { return try JSONNode.parse(data: Data(line), file: input).required(column).string() } catch {
                        throw DatasetError.invalidJSON(path: input, line: i + 1, reason: "\(error)")
                    }
                }
            }
            return try DelimitedTable(url: url).column(column)
        }
        var lines: [String] = []
        while let line = Swift.readLine(strippingNewline: true) { lines.append(line) }
        return lines
    }
}

/// Prints one JSON object per line.
func printJSONLine(_ members: [(String, JSONValue)]) {
    print(JSONValue.object(members).serialized())
}

