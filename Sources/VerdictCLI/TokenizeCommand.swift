import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict tokenize`: shows how a model's tokenizer cuts text, as a table or as JSON lines.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text with a model's tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt).",
        discussion: "With no TEXT and no --input, reads one text per line from standard input (blank lines skipped). Offsets count Unicode scalars (Python characters)."
    )

    @Option(name: .long, help: "A model folder or cached Hub id.")
    var model: String

    @Option(name: .long, help: "A second text, encoded as the pair of each input.")
    var pair: String?

    @Option(name: .customLong("max-length"), help: "Truncate to this many tokens (longest-first).")
    var maxLength: Int?

    @Flag(name: .customLong("no-special-tokens"), help: "Do not add [CLS]/[SEP] or their equivalents.")
    var noSpecialTokens = false

    @Flag(name: .long, help: "Print one JSON object per input line.")
    var json = false

    @OptionGroup var input: TextInput

    func validate() throws {
        if let maxLength, maxLength < 1 { throw ValidationError("--max-length must be at least 1 (got \(maxLength))") }
    }

    func run() throws { try reportingErrors(execute) }

    private func execute() throws {
        let tokenizer = try AutoTokenizer.from(folder: try resolveModelFolder(model))
        var options = TokenizationOptions(addSpecialTokens: !noSpecialTokens)
        if let maxLength {
            options.truncation = .longestFirst
            options.maxLength = maxLength
        }
        try input.forEachChunk(256) { inputs in
            let encodings = try tokenizer.encodeBatch(inputs, pairs: pair.map { p in inputs.map { _ in p } }, options: options)
            for (text, e) in zip(inputs, encodings) {
                print(json ? jsonLine(text: text, encoding: e) : table(text: text, encoding: e))
            }
        }
    }

    private func jsonLine(text: String, encoding e: Encoding) -> String {
        var object: [String: Any] = [
            "text": text,
            "input_ids": e.ids,
            "tokens": e.tokens,
            "attention_mask": e.attentionMask,
            "token_type_ids": e.typeIds,
            "special_tokens_mask": e.specialTokensMask,
            "offsets": e.offsets.map { [$0.start, $0.end] },
        ]
        if let pair { object["pair"] = pair }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private func table(text: String, encoding e: Encoding) -> String {
        var lines = ["\(text.debugDescription)  (\(e.count) tokens)"]
        let width = max(5, e.tokens.map { $0.count }.max() ?? 5)
        lines.append("  " + "token".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + "id".padding(toLength: 8, withPad: " ", startingAt: 0) + "offsets")
        for i in 0..<e.count {
            let token = e.tokens[i].padding(toLength: width, withPad: " ", startingAt: 0)
            let id = String(e.ids[i]).padding(toLength: 8, withPad: " ", startingAt: 0)
            lines.append("  \(token)  \(id)\(e.offsets[i].start)..<\(e.offsets[i].end)")
        }
        return lines.joined(separator: "\n")
    }
}
