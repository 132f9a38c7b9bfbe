import Foundation
import VerdictParallel

/// A complete tokenizer: normalizer → pre-tokenizer → model → post-processor, with added
/// tokens, padding, truncation and decoding. Built from a `tokenizer.json` or a model folder with
/// ``AutoTokenizer``; behaves like `transformers`' fast tokenizers.
public struct Tokenizer: Sendable {
    public var normalizer: (any Normalizer)?
    public var preTokenizer: (any PreTokenizer)?
    public var model: any TokenizerModel
    public var postProcessor: (any PostProcessor)?
    public var decoder: (any Decoder)?
    let addedVocabulary: AddedVocabulary

    /// The longest input the model accepts (`model_max_length`); the default `maxLength`.
    public var modelMaxLength: Int
    /// Named special tokens (`cls`, `sep`, `pad`, `unk`, `mask`, `bos`, `eos`) when known.
    public var specialTokens: [String: String]
    /// Default padding side from the configuration.
    public var paddingSide: Side
    /// Default truncation side from the configuration.
    public var truncationSide: Side
    /// Whether `transformers` hands the model the `token_type_ids` of an encoding (its tokenizer
    /// class lists them in `model_input_names`). When not, the model sees type 0 everywhere, even
    /// for the second text of a pair: RoBERTa's, ALBERT's and `PreTrainedTokenizerFast` do this
    /// in `transformers` 5. `Encoding.typeIds` always holds what `tokenizers` computes.
    public var returnsTokenTypeIds = true

    public init(normalizer: (any Normalizer)?, preTokenizer: (any PreTokenizer)?, model: any TokenizerModel,
                postProcessor: (any PostProcessor)?, decoder: (any Decoder)?, addedTokens: [AddedToken] = [],
                modelMaxLength: Int = 512, specialTokens: [String: String] = [:],
                paddingSide: Side = .right, truncationSide: Side = .right) {
        self.normalizer = normalizer; self.preTokenizer = preTokenizer; self.model = model
        self.postProcessor = postProcessor; self.decoder = decoder
        addedVocabulary = AddedVocabulary(tokens: addedTokens, normalizer: normalizer)
        self.modelMaxLength = modelMaxLength; self.specialTokens = specialTokens
        self.paddingSide = paddingSide; self.truncationSide = truncationSide
    }

    // MARK: Vocabulary

    /// The model vocabulary plus added tokens.
    public var vocabSize: Int {
        let added = addedVocabulary.tokens.filter { model.tokenToId($0.content) == nil }.count
        return model.vocabSize + added
    }

    public var addedTokens: [AddedToken] { addedVocabulary.tokens }

    /// The largest id the tokenizer can produce (vocabulary and added tokens), `nil` when it has none.
    public var largestId: Int? { (Array(model.vocabulary.values) + addedVocabulary.tokens.map(\.id)).max() }

    public func tokenToId(_ token: String) -> Int? { addedVocabulary.id(of: token) ?? model.tokenToId(token) }
    public func idToToken(_ id: Int) -> String? { addedVocabulary.token(for: id)?.content ?? model.idToToken(id) }
    public func convertTokensToIds(_ tokens: [String]) -> [Int?] { tokens.map(tokenToId) }
    public func convertIdsToTokens(_ ids: [Int]) -> [String?] { ids.map(idToToken) }

    public var padTokenId: Int? { specialTokens["pad"].flatMap(tokenToId) }
    public var unkTokenId: Int? { specialTokens["unk"].flatMap(tokenToId) }
    public var clsTokenId: Int? { specialTokens["cls"].flatMap(tokenToId) }
    public var sepTokenId: Int? { specialTokens["sep"].flatMap(tokenToId) }
    public var maskTokenId: Int? { specialTokens["mask"].flatMap(tokenToId) }
    public var bosTokenId: Int? { specialTokens["bos"].flatMap(tokenToId) }
    public var eosTokenId: Int? { specialTokens["eos"].flatMap(tokenToId) }

    // MARK: Encoding

    /// Tokens of `text` without special tokens (`tokenizer.tokenize(text)`).
    public func tokenize(_ text: String) -> [String] {
        encodeSequence(text, typeId: 0).tokens
    }

    /// Encodes one text or text pair. Truncation and padding follow `options`.
    public func encode(_ text: String, pair: String? = nil, options: TokenizationOptions = .plain) throws -> Encoding {
        var e = try postProcess(encodeSequence(text, typeId: 0), pair.map { encodeSequence($0, typeId: 1) }, options: options)
        try pad(&e, toLongest: e.count, options: options)
        return e
    }

    /// Encodes many texts (and optional pairs) on all cores, padding across the batch.
    public func encodeBatch(_ texts: [String], pairs: [String]? = nil, options: TokenizationOptions = .plain) throws -> [Encoding] {
        if let pairs, pairs.count != texts.count {
            throw TokenizerError.invalidArgument("encodeBatch: \(texts.count) texts but \(pairs.count) pairs")
        }
        let indices = Array(texts.indices)
        let results: [Result<Encoding, Error>] = Parallel.map(indices) { i in
            Result { try postProcess(encodeSequence(texts[i], typeId: 0), pairs.map { encodeSequence($0[i], typeId: 1) }, options: options) }
        }
        var encodings = try results.map { try $0.get() }
        let longest = encodings.map(\.count).max() ?? 0
        for i in encodings.indices { try pad(&encodings[i], toLongest: longest, options: options) }
        return encodings
    }

    /// `tokenizer(texts, text_pair=pairs, …)`: a batch of model inputs, with overflowing windows as rows when asked.
    public func callAsFunction(_ texts: [String], pairs: [String]? = nil, options: TokenizationOptions = .plain) throws -> BatchEncoding {
        let encodings = try encodeBatch(texts, pairs: pairs, options: options)
        var rows: [Encoding] = [], mapping: [Int] = []
        for (i, e) in encodings.enumerated() {
            var main = e
            main.overflowing = []
            rows.append(main); mapping.append(i)
            if options.returnOverflowingTokens {
                for o in e.overflowing { rows.append(o); mapping.append(i) }
            }
        }
        return BatchEncoding(encodings: rows, overflowToSampleMapping: mapping)
    }

    /// Runs added-token extraction, normalization, pre-tokenization and the model on one text.
    func encodeSequence(_ text: String, typeId: Int) -> Encoding {
        var e = Encoding()
        var word = 0
        func appendToken(id: Int, value: String?, offset: Range<Int>) {
            e.ids.append(id)
            e.tokens.append(value ?? idToToken(id) ?? "")
            e.offsets.append(.init(offset.lowerBound, offset.upperBound))
            e.wordIds.append(word)
        }
        for piece in addedVocabulary.extractAndNormalize(text, normalizer: normalizer) {
            if let index = piece.addedToken {
                let t = addedVocabulary.tokens[index]
                // The token's text is what matched, stripped whitespace included (as in `tokenizers`).
                appendToken(id: t.id, value: (t.lstrip || t.rstrip) ? piece.text.string : t.content, offset: piece.text.originalSpan)
                word += 1
                continue
            }
            if piece.text.isEmpty { continue }
            let words = preTokenizer.map { $0.split(piece.text) } ?? [piece.text]
            for w in words where !w.isEmpty {
                for t in model.tokenize(w.scalars[...]) {
                    appendToken(id: Int(t.id), value: t.value ?? model.idToToken(Int(t.id)),
                                offset: w.originalRange(Int(t.start)..<Int(t.end)))
                }
                word += 1
            }
        }
        let n = e.ids.count
        e.typeIds = Array(repeating: typeId, count: n)
        e.sequenceIds = Array(repeating: typeId, count: n)
        e.specialTokensMask = Array(repeating: 0, count: n)
        e.attentionMask = Array(repeating: 1, count: n)
        return e
    }

    /// Truncation, special tokens and type ids.
    func postProcess(_ a: Encoding, _ b: Encoding?, options: TokenizationOptions) throws -> Encoding {
        var a = a, b = b
        if options.truncation != .none {
            let added = options.addSpecialTokens ? (postProcessor?.addedTokens(isPair: b != nil) ?? 0) : 0
            let limit = options.maxLength ?? modelMaxLength
            guard limit >= added else {
                throw TokenizerError.invalidArgument("max_length \(limit) is shorter than the \(added) special tokens the tokenizer adds")
            }
            try truncate(&a, &b, maxLength: limit - added, options: options)
        }
        if let postProcessor { return postProcessor.process(a, b, addSpecialTokens: options.addSpecialTokens) }
        guard var b else { return a }
        b.setSequenceId(1)
        a.setSequenceId(0)
        a.merge(with: b)
        return a
    }

    private func truncate(_ a: inout Encoding, _ b: inout Encoding?, maxLength: Int, options: TokenizationOptions) throws {
        let total = a.count + (b?.count ?? 0)
        if maxLength >= total { return }
        let stride = options.stride, side = options.truncationSide
        switch options.truncation {
        case .none:
            return
        case .longestFirst:
            guard var pair = b else {
                try a.truncate(maxLength: maxLength, stride: stride, direction: side)
                return
            }
            var n1 = a.count, n2 = pair.count
            let swap = n1 > n2
            if swap { Swift.swap(&n1, &n2) }
            if n1 > maxLength { n2 = n1 } else { n2 = max(n1, maxLength - n1) }
            if n1 + n2 > maxLength {
                n1 = maxLength / 2
                n2 = n1 + maxLength % 2
            }
            if swap { Swift.swap(&n1, &n2) }
            try a.truncate(maxLength: n1, stride: stride, direction: side)
            try pair.truncate(maxLength: n2, stride: stride, direction: side)
            b = pair
        case .onlyFirst, .onlySecond:
            let toRemove = total - maxLength
            if options.truncation == .onlyFirst {
                guard a.count > toRemove else {
                    throw TokenizerError.invalidArgument("the first sequence is too short (\(a.count) tokens) to remove \(toRemove) tokens with only_first")
                }
                try a.truncate(maxLength: a.count - toRemove, stride: stride, direction: side)
            } else {
                guard var pair = b else {
                    throw TokenizerError.invalidArgument("truncation only_second needs a second sequence")
                }
                guard pair.count > toRemove else {
                    throw TokenizerError.invalidArgument("the second sequence is too short (\(pair.count) tokens) to remove \(toRemove) tokens with only_second")
                }
                try pair.truncate(maxLength: pair.count - toRemove, stride: stride, direction: side)
                b = pair
            }
        }
    }

    private func pad(_ e: inout Encoding, toLongest longest: Int, options: TokenizationOptions) throws {
        var target: Int
        switch options.padding {
        case .none: return
        case .longest: target = longest
        case .maxLength: target = options.maxLength ?? modelMaxLength
        }
        if let m = options.padToMultipleOf, m > 0, target % m != 0 { target += m - target % m }
        guard let padToken = specialTokens["pad"], let padId = tokenToId(padToken) else {
            throw TokenizerError.invalidArgument("padding asked but the tokenizer has no padding token")
        }
        e.pad(to: target, id: padId, typeId: 0, token: padToken, side: options.paddingSide)
    }

    // MARK: Decoding

    /// Turns ids back into text, optionally without special tokens.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        for id in ids {
            if let added = addedVocabulary.token(for: id) {
                if skipSpecialTokens && added.special { continue }
                tokens.append(added.content)
            } else if let t = model.idToToken(id) {
                tokens.append(t)
            }
        }
        return convertTokensToString(tokens)
    }

    /// Joins tokens into text with the decoder (or spaces when there is none).
    public func convertTokensToString(_ tokens: [String]) -> String {
        decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }
}

extension Tokenizer {
    /// `transformers` 5 tokenizer classes (without `Fast`) whose `model_input_names` include
    /// `token_type_ids`; every other named class returns none.
    static let classesReturningTokenTypeIds: Set<String> = [
        "BertTokenizer", "ConvBertTokenizer", "DPRContextEncoderTokenizer", "DPRQuestionEncoderTokenizer", "DPRReaderTokenizer",
        "ElectraTokenizer", "LayoutLMTokenizer", "MobileBertTokenizer", "RetriBertTokenizer", "SqueezeBertTokenizer",
        "DebertaTokenizer", "DebertaV2Tokenizer", "CanineTokenizer", "FNetTokenizer", "FunnelTokenizer", "LayoutLMv2Tokenizer",
        "LxmertTokenizer", "MarkupLMTokenizer", "TapasTokenizer",
    ]
}
