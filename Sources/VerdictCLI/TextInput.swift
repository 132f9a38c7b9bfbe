import ArgumentParser
import Foundation
import Verdict
import VerdictJSON

/// Where `classify`, `embed` and `tokenize` read texts, one way for all of them: arguments,
/// `--input FILE [--column NAME]` (`TextFile`: CSV, TSV, JSON Lines or JSON as tables, the column
/// `text`, then `sentence`, … by default; any other file one text per line), or one text per line
/// of standard input (`LineReader.nextText`: `\n` or `\r\n`, byte-order mark and blank lines
/// skipped), answered as it arrives.
struct TextInput: ParsableArguments {
    @Option(help: "Read texts from a file: a column of a CSV, TSV, JSON Lines or JSON file, else (.txt) one text per line.") var input: String?
    @Option(help: "Column (CSV/TSV) or key (JSON) holding the text (default: text, sentence, review or content, whichever the file has first).")
    var column: String?
    @Argument(help: "Texts; none reads one text per line from standard input (blank lines skipped), answering as lines arrive.") var texts: [String] = []

    func validate() throws {
        if column != nil && input == nil { throw ValidationError("--column needs --input FILE") }
        if input != nil && !texts.isEmpty { throw ValidationError("give texts as arguments or --input FILE, not both") }
    }

    /// Calls `body` with the texts in order: arguments and files at once, standard input `chunk`
    /// lines at a time (one at a time from a terminal), flushing what `body` printed after each.
    func forEachChunk(_ chunk: Int, _ body: ([String]) throws -> Void) throws {
        if !texts.isEmpty { return try body(texts) }
        if let input {
            let texts = try TextFile.texts(URL(fileURLWithPath: input), column: column)
            return texts.isEmpty ? () : try body(texts)
        }
        let reader = LineReader()
        let size = isatty(STDIN_FILENO) != 0 ? 1 : max(chunk, 1)
        while case let texts = try reader.nextTexts(size), !texts.isEmpty {
            try body(texts)
            fflush(nil)   // all C streams: print is line-buffered only on a terminal (nil avoids the global stdout)
        }
    }
}

/// Prints one JSON object per line.
func printJSONLine(_ members: [(String, JSONValue)]) {
    print(JSONValue.object(members).serialized())
}
