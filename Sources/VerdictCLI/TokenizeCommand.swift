import ArgumentParser
import Foundation
import Verdict

/// `verdict tokenize`: shows how a model's tokenizer cuts text, as a table or as JSON lines.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text with a model's tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt).",
        discussion: "With no TEXT, reads one text per line from standard input. Offsets count Unicode scalars (Python characters)."
    )

    @Option(name: .long, help: "A model folder.")
    var model: String

    @Option(name: .long, help: "A second text, encoded as the pair of each input.")
    var pair: String?

    @Option(name: .customLong("max-length"), help: "Truncate to this many tokens (longest-first).")
    var maxLength: Int?

    @Flag(name: .customLong("no-special-tokens"), help: "Do not add [CLS]/[SEP] or their equivalents.")
    var noSpecialTokens = false

    @Flag(name: .long, help: "Print one JSON object per input line.")
    var json = false

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    func run() throws {
        let tokenizer: Tokenizer
        do {
            tokenizer = try AutoTokenizer.from(folder: URL(fileURLWithPath: model))
        } catch {
            throw ValidationError("\(error)")
        }
        var options = TokenizationOptions(addSpecialTokens: !noSpecialTokens)
        if let maxLength {
            options.truncation = .longestFirst
            options.maxLength = maxLength
        }
        let inputs = texts.isEmpty ? StandardInput.lines() : texts
        let encodings: [Encoding]
        do {
            encodings = try tokenizer.encodeBatch(inputs, pairs: pair.map { p in inputs.map { _ in p } }, options: options)
        } catch {
            throw ValidationError("\(error)")
        }
        for (text, e) in zip(inputs, encodings) {
            if json {
                print(jsonLine(text: text, encoding: e))
            } else {
                print(table(text: text, encoding: e))
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

/// Reads standard input as lines (invalid UTF-8 is replaced, never fatal).
enum StandardInput {
    static func lines() -> [String] {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        if text.isEmpty { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
    }
}
