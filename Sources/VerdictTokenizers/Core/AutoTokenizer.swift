import Foundation
import VerdictJSON

/// Loads the tokenizer of a model folder the way `transformers`' `AutoTokenizer` does:
/// `tokenizer.json` when present, else `vocab.txt` (BERT WordPiece), else `vocab.json` +
/// `merges.txt` (byte-level BPE), with `tokenizer_config.json` and `special_tokens_map.json`
/// supplying lower-casing, special tokens and `model_max_length`.
///
/// Like `transformers` (and unlike raw `tokenizers`), the `padding` and `truncation` sections of
/// `tokenizer.json` are ignored: each call pads and truncates only as its options ask.
public enum AutoTokenizer {
    /// The value `transformers` uses when a tokenizer declares no maximum length.
    public static let unlimitedLength = Int(Int32.max)

    /// Loads from a folder.
    public static func from(folder: URL) throws -> Tokenizer {
        try TokenizerError.mappingJSONErrors { try load(folder: folder) }
    }

    private static func load(folder: URL) throws -> Tokenizer {
        let fm = FileManager.default
        func file(_ name: String) -> URL? {
            let u = folder.appendingPathComponent(name)
            return fm.fileExists(atPath: u.path) ? u : nil
        }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TokenizerError.unreadableFile(path: folder.path, reason: "no such folder")
        }
        let config = try file("tokenizer_config.json").map { try readJSON($0) }
        let specialMap = try file("special_tokens_map.json").map { try readJSON($0) }

        var special: [String: String] = [:]
        for role in ["unk", "sep", "pad", "cls", "mask", "bos", "eos"] {
            let key = role + "_token"
            for source in [specialMap, config] {
                guard let node = source?[key] else { continue }
                if let s = node.stringValue { special[role] = s }
                else if let c = try? node.required("content").string() { special[role] = c }
            }
        }
        let lower = try config?.optionalBool("do_lower_case")

        var tokenizer: Tokenizer
        if let url = file("tokenizer.json") {
            tokenizer = try from(tokenizerJSON: url)
        } else if let vocabURL = file("vocab.txt") {
            tokenizer = try bertWordPiece(
                vocabURL: vocabURL, lowercase: lower ?? true, stripAccents: try config?.optionalBool("strip_accents"),
                tokenizeChineseChars: try config?.bool("tokenize_chinese_chars", default: true) ?? true, special: &special)
        } else if let vocabURL = file("vocab.json"), let mergesURL = file("merges.txt") {
            let cls = (try config?.optionalString("tokenizer_class")) ?? ""
            tokenizer = try byteLevelBPE(vocabURL: vocabURL, mergesURL: mergesURL,
                                         addPrefixSpace: try config?.bool("add_prefix_space", default: false) ?? false,
                                         roberta: cls.lowercased().contains("roberta"), special: &special)
        } else {
            throw TokenizerError.noTokenizerFiles(folder: folder.path)
        }
        if let m = config?["model_max_length"] {
            let v = (try? m.double()) ?? Double(unlimitedLength)
            tokenizer.modelMaxLength = v >= Double(unlimitedLength) ? unlimitedLength : Int(v)
        } else if file("tokenizer_config.json") != nil || file("tokenizer.json") != nil {
            tokenizer.modelMaxLength = unlimitedLength
        }
        if let names = try config?["model_input_names"]?.array() {
            tokenizer.returnsTokenTypeIds = try names.contains { try $0.string() == "token_type_ids" }
        } else if let cls = try config?.optionalString("tokenizer_class") {
            tokenizer.returnsTokenTypeIds = Tokenizer.classesReturningTokenTypeIds.contains(cls.hasSuffix("Fast") ? String(cls.dropLast(4)) : cls)
        }
        if let side = try config?.optionalString("padding_side") { tokenizer.paddingSide = side == "left" ? .left : .right }
        if let side = try config?.optionalString("truncation_side") { tokenizer.truncationSide = side == "left" ? .left : .right }
        for (k, v) in special { tokenizer.specialTokens[k] = v }
        return tokenizer
    }

    /// Loads a `tokenizer.json` file.
    public static func from(tokenizerJSON url: URL) throws -> Tokenizer {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: fileErrorReason(error))
        }
        var t = try TokenizerError.mappingJSONErrors { try TokenizerJSON.load(data: data, file: url.path) }
        t.specialTokens = inferSpecialTokens(t)
        return t
    }

    /// Guesses named special tokens from the added tokens of a `tokenizer.json` alone.
    static func inferSpecialTokens(_ t: Tokenizer) -> [String: String] {
        var special: [String: String] = [:]
        let names: [String: String] = [
            "[UNK]": "unk", "[SEP]": "sep", "[PAD]": "pad", "[CLS]": "cls", "[MASK]": "mask",
            "<unk>": "unk", "<pad>": "pad", "<mask>": "mask", "<s>": "bos", "</s>": "eos",
        ]
        for a in t.addedTokens where a.special { if let role = names[a.content] { special[role] = a.content } }
        if special["cls"] == nil, let bos = special["bos"] { special["cls"] = bos }
        if special["sep"] == nil, let eos = special["eos"] { special["sep"] = eos }
        return special
    }

    static func readJSON(_ url: URL) throws -> JSONNode {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: fileErrorReason(error))
        }
        return try JSONNode.parse(data: data, file: url.path)
    }

    /// BERT's WordPiece pipeline from `vocab.txt`, as `transformers` converts `BertTokenizer`.
    static func bertWordPiece(vocabURL: URL, lowercase: Bool, stripAccents: Bool?, tokenizeChineseChars: Bool,
                              special: inout [String: String]) throws -> Tokenizer {
        let text: String
        do { text = try String(contentsOf: vocabURL, encoding: .utf8) } catch {
            throw TokenizerError.unreadableFile(path: vocabURL.path, reason: "not UTF-8 text (\(fileErrorReason(error)))")
        }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        // transformers strips the trailing newline of each line only (`token.rstrip("\n")`).
        let vocab = lines.enumerated().map { ($0.element.hasSuffix("\r") ? String($0.element.dropLast()) : $0.element, $0.offset) }
        let defaults = ["unk": "[UNK]", "sep": "[SEP]", "pad": "[PAD]", "cls": "[CLS]", "mask": "[MASK]"]
        for (k, v) in defaults where special[k] == nil { special[k] = v }
        let model = try WordPiece(vocab: vocab, unkToken: special["unk"]!)
        guard let clsId = model.tokenToId(special["cls"]!) else { throw TokenizerError.missingToken(special["cls"]!, role: "classifier") }
        guard let sepId = model.tokenToId(special["sep"]!) else { throw TokenizerError.missingToken(special["sep"]!, role: "separator") }
        var added: [AddedToken] = []
        for role in ["pad", "unk", "cls", "sep", "mask"] {
            if let s = special[role], let id = model.tokenToId(s), !added.contains(where: { $0.id == id }) {
                added.append(AddedToken(content: s, id: id, special: true, normalized: false))
            }
        }
        added.sort { $0.id < $1.id }
        let cls = special["cls"]!, sep = special["sep"]!
        let post = TemplateProcessing(
            single: [.special(id: cls, typeId: 0), .sequence(isPair: false, typeId: 0), .special(id: sep, typeId: 0)],
            pair: [.special(id: cls, typeId: 0), .sequence(isPair: false, typeId: 0), .special(id: sep, typeId: 0),
                   .sequence(isPair: true, typeId: 1), .special(id: sep, typeId: 1)],
            specialTokens: [cls: .init(id: cls, ids: [clsId], tokens: [cls]), sep: .init(id: sep, ids: [sepId], tokens: [sep])])
        return Tokenizer(
            normalizer: BertNormalizer(cleanText: true, handleChineseChars: tokenizeChineseChars, stripAccents: stripAccents, lowercase: lowercase),
            preTokenizer: BertPreTokenizer(), model: model, postProcessor: post, decoder: WordPieceDecoder(),
            addedTokens: added, specialTokens: special)
    }

    /// GPT-2 / RoBERTa byte-level BPE from `vocab.json` + `merges.txt`.
    static func byteLevelBPE(vocabURL: URL, mergesURL: URL, addPrefixSpace: Bool, roberta: Bool,
                             special: inout [String: String]) throws -> Tokenizer {
        let vocabNode = try readJSON(vocabURL)
        let vocab = try TokenizerJSON.vocabPairs(vocabNode)
        let mergesText: String
        do { mergesText = try String(contentsOf: mergesURL, encoding: .utf8) } catch {
            throw TokenizerError.unreadableFile(path: mergesURL.path, reason: fileErrorReason(error))
        }
        var merges: [(String, String)] = []
        for (i, line) in mergesText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#version") || line.isEmpty { continue }
            let parts = line.split(separator: " ")
            guard parts.count == 2 else {
                throw TokenizerError.invalidValue(file: mergesURL.path, path: "line \(i + 1)", expected: "two tokens separated by a space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let model = try BPE(vocab: vocab, merges: merges)
        let defaults = roberta
            ? ["bos": "<s>", "eos": "</s>", "cls": "<s>", "sep": "</s>", "unk": "<unk>", "pad": "<pad>", "mask": "<mask>"]
            : ["bos": "<|endoftext|>", "eos": "<|endoftext|>", "unk": "<|endoftext|>"]
        for (k, v) in defaults where special[k] == nil { special[k] = v }
        var added: [AddedToken] = []
        for s in Set(special.values) {
            if let id = model.tokenToId(s) { added.append(AddedToken(content: s, id: id, special: true, normalized: false)) }
        }
        added.sort { $0.id < $1.id }
        var post: any PostProcessor = ByteLevelProcessing(trimOffsets: false, addPrefixSpace: addPrefixSpace)
        if roberta, let cls = special["cls"], let sep = special["sep"], let clsId = model.tokenToId(cls), let sepId = model.tokenToId(sep) {
            post = RobertaProcessing(cls: (cls, clsId), sep: (sep, sepId), trimOffsets: true, addPrefixSpace: addPrefixSpace)
        }
        return Tokenizer(normalizer: nil, preTokenizer: ByteLevelPreTokenizer(addPrefixSpace: addPrefixSpace, trimOffsets: true, useRegex: true),
                         model: model, postProcessor: post, decoder: ByteLevelDecoder(), addedTokens: added, specialTokens: special)
    }
}
