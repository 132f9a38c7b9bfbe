import Foundation
import VerdictJSON

/// Builds a ``Tokenizer`` from the `tokenizer.json` format of Hugging Face `tokenizers`.
enum TokenizerJSON {
    static func load(data: Data, file: String) throws -> Tokenizer {
        let root = try JSONNode.parse(data: data, file: file)
        let normalizer = try root["normalizer"].map(normalizer)
        let preTokenizer = try root["pre_tokenizer"].map(preTokenizer)
        let model = try self.model(root.required("model"))
        let postProcessor = try root["post_processor"].map { try self.postProcessor($0, model: model) }
        let decoder = try root["decoder"].map(decoder)
        var added: [AddedToken] = []
        for t in try root["added_tokens"]?.array() ?? [] {
            let special = try t.bool("special", default: false)
            added.append(AddedToken(
                content: try t.required("content").string(), id: try t.required("id").int(), special: special,
                singleWord: try t.bool("single_word", default: false), lstrip: try t.bool("lstrip", default: false),
                rstrip: try t.bool("rstrip", default: false), normalized: try t.optionalBool("normalized") ?? !special))
        }
        return Tokenizer(normalizer: normalizer, preTokenizer: preTokenizer, model: model,
                         postProcessor: postProcessor, decoder: decoder, addedTokens: added)
    }

    static func type(_ node: JSONNode) throws -> String { try node.required("type").string() }

    static func pattern(_ node: JSONNode) throws -> Pattern {
        if let s = node["String"] { return .string(try s.string()) }
        if let r = node["Regex"] {
            do { return try Pattern.regex(try r.string()) } catch { throw r.fail("a regular expression NSRegularExpression accepts") }
        }
        throw node.fail("{\"String\": …} or {\"Regex\": …}")
    }

    static func behavior(_ node: JSONNode?, default d: SplitDelimiterBehavior) throws -> SplitDelimiterBehavior {
        guard let node else { return d }
        let s = try node.string()
        guard let b = SplitDelimiterBehavior(rawValue: s) else { throw node.fail("one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous") }
        return b
    }

    static func scalar(_ node: JSONNode) throws -> Unicode.Scalar {
        let s = try node.string()
        guard s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else { throw node.fail("a single character") }
        return c
    }

    static func normalizer(_ n: JSONNode) throws -> any Normalizer {
        let t = try type(n)
        switch t {
        case "BertNormalizer":
            return BertNormalizer(cleanText: try n.bool("clean_text", default: true),
                                  handleChineseChars: try n.bool("handle_chinese_chars", default: true),
                                  stripAccents: try n.optionalBool("strip_accents"),
                                  lowercase: try n.bool("lowercase", default: true))
        case "Lowercase": return Lowercase()
        case "NFC": return UnicodeNormalizer(form: .nfc)
        case "NFD": return UnicodeNormalizer(form: .nfd)
        case "NFKC": return UnicodeNormalizer(form: .nfkc)
        case "NFKD": return UnicodeNormalizer(form: .nfkd)
        case "StripAccents": return StripAccents()
        case "Strip": return Strip(left: try n.bool("strip_left", default: true), right: try n.bool("strip_right", default: true))
        case "Prepend": return Prepend(try n.required("prepend").string())
        case "Replace": return Replace(pattern: try pattern(n.required("pattern")), content: try n.required("content").string())
        case "Nmt": return NmtNormalizer()
        case "ByteLevel": return ByteLevelNormalizer()
        case "Precompiled":
            guard let blob = n["precompiled_charsmap"] else { return SequenceNormalizer([]) }
            guard let data = Data(base64Encoded: try blob.string()) else { throw blob.fail("base64 data") }
            do { return try PrecompiledNormalizer(charsmap: [UInt8](data)) } catch { throw blob.fail("a valid SentencePiece charsmap (\(error))") }
        case "Sequence":
            return SequenceNormalizer(try n.required("normalizers").array().map(normalizer))
        default:
            throw TokenizerError.unknownComponent(file: n.file, path: n.path + ".type", type: t, known: [
                "BertNormalizer", "Lowercase", "NFC", "NFD", "NFKC", "NFKD", "StripAccents", "Strip", "Prepend",
                "Replace", "Nmt", "ByteLevel", "Precompiled", "Sequence"])
        }
    }

    static func prependScheme(_ n: JSONNode) throws -> Metaspace.PrependScheme {
        if let s = n["prepend_scheme"] {
            guard let v = Metaspace.PrependScheme(rawValue: try s.string()) else { throw s.fail("always, first or never") }
            return v
        }
        return try n.bool("add_prefix_space", default: true) ? .always : .never
    }

    static func preTokenizer(_ n: JSONNode) throws -> any PreTokenizer {
        let t = try type(n)
        switch t {
        case "BertPreTokenizer": return BertPreTokenizer()
        case "Whitespace": return WhitespacePreTokenizer()
        case "WhitespaceSplit": return WhitespaceSplit()
        case "Punctuation": return PunctuationPreTokenizer(behavior: try behavior(n["behavior"], default: .isolated))
        case "Digits": return DigitsPreTokenizer(individualDigits: try n.bool("individual_digits", default: false))
        case "CharDelimiterSplit": return CharDelimiterSplit(delimiter: try scalar(n.required("delimiter")))
        case "Split":
            return SplitPreTokenizer(pattern: try pattern(n.required("pattern")),
                                     behavior: try behavior(n.required("behavior"), default: .removed),
                                     invert: try n.bool("invert", default: false))
        case "Metaspace":
            return Metaspace(replacement: try n["replacement"].map(scalar) ?? "\u{2581}",
                             prependScheme: try prependScheme(n), split: try n.bool("split", default: true))
        case "ByteLevel":
            return ByteLevelPreTokenizer(addPrefixSpace: try n.bool("add_prefix_space", default: true),
                                         trimOffsets: try n.bool("trim_offsets", default: true),
                                         useRegex: try n.bool("use_regex", default: true))
        case "Sequence":
            return SequencePreTokenizer(try n.required("pretokenizers").array().map(preTokenizer))
        default:
            throw TokenizerError.unknownComponent(file: n.file, path: n.path + ".type", type: t, known: [
                "BertPreTokenizer", "Whitespace", "WhitespaceSplit", "Punctuation", "Digits", "CharDelimiterSplit",
                "Split", "Metaspace", "ByteLevel", "Sequence"])
        }
    }

    static func vocabPairs(_ n: JSONNode) throws -> [(String, Int)] {
        guard case .object(let members) = n.value else { throw n.fail("an object mapping tokens to ids") }
        var pairs: [(String, Int)] = []
        pairs.reserveCapacity(members.count)
        for (k, v) in members {
            guard case .number(let d, true) = v, d >= 0, d <= Double(Int32.max) else {
                throw TokenizerError.invalidValue(file: n.file, path: n.path + "[\"\(k)\"]", expected: "a non-negative integer id below 2^31")
            }
            pairs.append((k, Int(d)))
        }
        return pairs
    }

    static func model(_ n: JSONNode) throws -> any TokenizerModel {
        // Old files omit the type; infer it from the fields.
        let t: String
        if let node = n["type"] { t = try node.string() }
        else if n["merges"] != nil { t = "BPE" }
        else if n["continuing_subword_prefix"] != nil { t = "WordPiece" }
        else if n["unk_id"] != nil { t = "Unigram" }
        else { t = "WordLevel" }
        do {
            switch t {
            case "WordPiece":
                return try WordPiece(vocab: vocabPairs(n.required("vocab")), unkToken: n.string("unk_token", default: "[UNK]"),
                                     continuingSubwordPrefix: n.string("continuing_subword_prefix", default: "##"),
                                     maxInputCharsPerWord: n.int("max_input_chars_per_word", default: 100))
            case "WordLevel":
                return WordLevel(vocab: try vocabPairs(n.required("vocab")), unkToken: try n.string("unk_token", default: "<unk>"))
            case "BPE":
                var merges: [(String, String)] = []
                for m in try n.required("merges").array() {
                    if let s = m.stringValue {
                        let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                        guard parts.count == 2 else { throw m.fail("\"left right\"") }
                        merges.append((String(parts[0]), String(parts[1])))
                    } else {
                        let pair = try m.array()
                        guard pair.count == 2 else { throw m.fail("[left, right]") }
                        merges.append((try pair[0].string(), try pair[1].string()))
                    }
                }
                if let d = n["dropout"], !d.isNull, (try? d.double()) ?? 0 > 0 {
                    throw d.fail("null (BPE dropout is a training-time option Verdict does not apply at inference)")
                }
                return try BPE(vocab: vocabPairs(n.required("vocab")), merges: merges, unkToken: n.optionalString("unk_token"),
                               continuingSubwordPrefix: n.optionalString("continuing_subword_prefix"),
                               endOfWordSuffix: n.optionalString("end_of_word_suffix"),
                               fuseUnk: n.bool("fuse_unk", default: false), byteFallback: n.bool("byte_fallback", default: false),
                               ignoreMerges: n.bool("ignore_merges", default: false))
            case "Unigram":
                var vocab: [(String, Double)] = []
                for entry in try n.required("vocab").array() {
                    let pair = try entry.array()
                    guard pair.count == 2 else { throw entry.fail("[piece, score]") }
                    vocab.append((try pair[0].string(), try pair[1].double()))
                }
                return try Unigram(vocab: vocab, unkId: n.optionalInt("unk_id"), byteFallback: n.bool("byte_fallback", default: false))
            default:
                throw TokenizerError.unknownComponent(file: n.file, path: n.path + ".type", type: t, known: ["WordPiece", "WordLevel", "BPE", "Unigram"])
            }
        } catch let e as TokenizerError {
            if case .missingToken(let token, let role) = e {
                throw TokenizerError.invalidValue(file: n.file, path: n.path, expected: "a vocabulary containing the \(role) token \"\(token)\"")
            }
            throw e
        }
    }

    static func tokenAndId(_ n: JSONNode) throws -> (String, Int) {
        let a = try n.array()
        guard a.count == 2 else { throw n.fail("[token, id]") }
        return (try a[0].string(), try a[1].int())
    }

    static func templatePieces(_ n: JSONNode) throws -> [TemplateProcessing.Piece] {
        if let s = n.stringValue {
            return try s.split(separator: " ").map { item in
                let parts = item.split(separator: ":", maxSplits: 1)
                let name = String(parts[0])
                let typeId = parts.count > 1 ? Int(parts[1]) : 0
                guard let typeId else { throw n.fail("a template like \"[CLS] $A [SEP]\"") }
                if name == "$A" || name == "$" { return .sequence(isPair: false, typeId: typeId) }
                if name == "$B" { return .sequence(isPair: true, typeId: typeId) }
                if name.hasPrefix("$"), let k = Int(name.dropFirst()) { return .sequence(isPair: false, typeId: k) }
                return .special(id: name, typeId: typeId)
            }
        }
        return try n.array().map { p in
            if let s = p["Sequence"] {
                let id = try s.required("id").string()
                guard id == "A" || id == "B" else { throw s.fail("id A or B") }
                return .sequence(isPair: id == "B", typeId: try s.int("type_id", default: 0))
            }
            if let s = p["SpecialToken"] {
                return .special(id: try s.required("id").string(), typeId: try s.int("type_id", default: 0))
            }
            throw p.fail("{\"Sequence\": …} or {\"SpecialToken\": …}")
        }
    }

    static func postProcessor(_ n: JSONNode, model: any TokenizerModel) throws -> any PostProcessor {
        let t = try type(n)
        switch t {
        case "BertProcessing":
            return BertProcessing(cls: try tokenAndId(n.required("cls")), sep: try tokenAndId(n.required("sep")))
        case "RobertaProcessing":
            return RobertaProcessing(cls: try tokenAndId(n.required("cls")), sep: try tokenAndId(n.required("sep")),
                                     trimOffsets: try n.bool("trim_offsets", default: true),
                                     addPrefixSpace: try n.bool("add_prefix_space", default: true))
        case "ByteLevel":
            return ByteLevelProcessing(trimOffsets: try n.bool("trim_offsets", default: true),
                                       addPrefixSpace: try n.bool("add_prefix_space", default: true))
        case "TemplateProcessing":
            var specials: [String: TemplateProcessing.SpecialToken] = [:]
            if let s = n["special_tokens"] {
                for (key, v) in try s.object() {
                    let ids = try v.required("ids").array().map { try $0.int() }
                    let tokens = try v.required("tokens").array().map { try $0.string() }
                    guard ids.count == tokens.count else { throw v.fail("as many ids as tokens") }
                    specials[key] = .init(id: try v.string("id", default: key), ids: ids, tokens: tokens)
                }
            }
            let single = try templatePieces(n.required("single"))
            let pair = try templatePieces(n.required("pair"))
            for case let .special(id, _) in single + pair where specials[id] == nil {
                throw n.fail("a special_tokens entry for \"\(id)\" used in the template")
            }
            return TemplateProcessing(single: single, pair: pair, specialTokens: specials)
        case "Sequence":
            return SequenceProcessing(try n.required("processors").array().map { try postProcessor($0, model: model) })
        default:
            throw TokenizerError.unknownComponent(file: n.file, path: n.path + ".type", type: t, known: [
                "BertProcessing", "RobertaProcessing", "ByteLevel", "TemplateProcessing", "Sequence"])
        }
    }

    static func decoder(_ n: JSONNode) throws -> any Decoder {
        let t = try type(n)
        switch t {
        case "WordPiece":
            return WordPieceDecoder(prefix: try n.string("prefix", default: "##"), cleanup: try n.bool("cleanup", default: true))
        case "ByteLevel": return ByteLevelDecoder()
        case "Metaspace":
            return MetaspaceDecoder(replacement: try n["replacement"].map(scalar) ?? "\u{2581}", prependScheme: try prependScheme(n))
        case "BPEDecoder": return BPEDecoder(suffix: try n.string("suffix", default: "</w>"))
        case "ByteFallback": return ByteFallbackDecoder()
        case "Fuse": return FuseDecoder()
        case "Strip":
            return StripDecoder(content: try scalar(n.required("content")), start: try n.int("start", default: 0), stop: try n.int("stop", default: 0))
        case "Replace": return ReplaceDecoder(pattern: try pattern(n.required("pattern")), content: try n.required("content").string())
        case "Sequence": return SequenceDecoder(try n.required("decoders").array().map(decoder))
        default:
            throw TokenizerError.unknownComponent(file: n.file, path: n.path + ".type", type: t, known: [
                "WordPiece", "ByteLevel", "Metaspace", "BPEDecoder", "ByteFallback", "Fuse", "Strip", "Replace", "Sequence"])
        }
    }
}
