#!/usr/bin/env python3
"""Golden tokenizer outputs for Verdict's parity tests, produced by Hugging Face `transformers`
(fast tokenizers, i.e. Rust `tokenizers`).

Usage: python tools/make_tokenizer_fixtures.py --minilm DIR --shared ../shared --out Fixtures/tokenizers [--train NAMES]

The trainers are not deterministic from run to run, so every run writes all golden files again from
the tokenizer folders as they are after training; `--train none` only writes the goldens, `--train
unigram-precompiled` trains just that one.

It trains small tokenizers with `tokenizers` (cased WordPiece, RoBERTa-style byte-level BPE,
SentencePiece-style Unigram with Metaspace, Llama-style byte-fallback BPE, word-suffix BPE) and one
with `sentencepiece` (converted as `transformers` converts ALBERT, with the Precompiled normalizer),
saves them under OUT/<name>/, and writes
OUT/<name>.golden.jsonl for those and for the bert-base-uncased vocabulary of the all-MiniLM-L6-v2
weights (loaded once from tokenizer.json and once from vocab.txt alone).
Each line: {"case", "text", "pair", "options", "rows": [{"input_ids", "token_type_ids",
"attention_mask", "special_tokens_mask", "offsets", "tokens"?}]}.
"""
import os
os.environ.setdefault("RUST_BACKTRACE", "0")
import argparse, csv, json, os, random, shutil, subprocess, sys, tempfile

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, decoders, trainers, Regex
from tokenizers import AddedToken
from transformers import AutoTokenizer, PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import AlbertConverter

csv.field_size_limit(sys.maxsize)


def read_tsv(path, limit=None):
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r["sentence"] for r in csv.DictReader(f, delimiter="\t")]
    return rows[:limit] if limit else rows


def adversarial(rng):
    base = [
        "", " ", "   \t\n ", "I've been waiting for a HuggingFace course my whole life.", "I hate this so much!",
        "I like BUAN6342", "Hello, world! How are you?", "Don't you love 🤗 Transformers? We sure do.",
        "北京是中国的首都。我爱自然语言处理！", "東京タワーに行きました。カタカナとひらがな。", "한국어 텍스트도 있습니다.",
        "مرحبا بالعالم، كيف حالك؟", "यह एक हिंदी वाक्य है।", "ภาษาไทยไม่มีช่องว่างระหว่างคำ", "Ελληνικά και русский язык.",
        "👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🥰 🫠 ❤️", "café vs cafe\u0301 and à vs a\u0300", "naïve façade Ångström ÉCOLE",
        "control\x00chars\x07here\u200b and\ufeffbom\u00ad soft", "tab\tseparated\r\nwindows line", "ＦＵＬＬＷＩＤＴＨ ＡＢＣ １２３",
        "$100 ^caret `backtick` ~tilde | pipe \\ backslash", "e-mail: someone@example.com, url: https://x.org/a?b=c#d",
        "a" * 99, "b" * 100, "c" * 101, "pneumonoultramicroscopicsilicovolcanoconiosis" * 3,
        "[CLS] inside [SEP] text [MASK] and [PAD] [UNK]", "<s> roberta </s> <mask> tokens <pad>", "İstanbul ΣΊΣΥΦΟΣ straße ﬁ ligature",
        "1234567890 3.14159 1,000,000 ١٢٣ ½ ²", "   leading and trailing spaces   ", "multiple    internal     spaces",
        "'s 're 've 'm 'll 'd 't contractions it's we're", "\u2028line\u2029para\u0085nel", "\U0002A6A5\U0002B740\U0002CEB0 rare CJK",
        "emoji at end 😀", "😀", "\u0301 starts with a combining mark", "zero\u200dwidth\u200cjoiners", "Ꭰ Cherokee ⅷ roman",
        # Canonical ordering and composition: marks out of order, marks that compose across others, Hangul jamo,
        # compatibility forms that decompose into several scalars.
        "x\u0615\u094d reorder", "e\u0301\u0316 and \u1e09\u0316 and a\u0328\u0301\u0316", "\u0041\u030a\u0323 \u212b \u2126 \u212a",
        "\u1100\u1161\u11a8 \u1100\u1161 \uac00\u11a8 jamo", "\u0f73 \u0f75 \u0f81 tibetan", "ｶﾞｷﾞｸﾟ ﾊﾟ half-width voiced",
        "\u0344\u0301 \u0958 \u2000\u2001 \u3250 \u33ff \ufdfa \ufb2c", "\u00af\u0615\u094d¾ \u00a8\u0301",
        # SentencePiece charsmap quirks: deletions at either end, a whole grapheme replaced by its prefix's rule.
        "\x07\x08starts with deleted controls", "ends with deleted controls\x07\x08", "Ａ\u0301 Ｂ\u0308\u0301 fullwidth + marks",
        "\r\n\r\nCRLF lines\r\n", "\uff76\uff9e\uff8a\uff9f \u1100\u1161\u11a8\u0301",
    ]
    pools = [chr(c) for c in list(range(0x20, 0x7F)) + list(range(0xA0, 0x250)) + list(range(0x370, 0x3FF))
             + list(range(0x400, 0x4FF)) + list(range(0x600, 0x6FF)) + list(range(0x900, 0x97F)) + list(range(0xE00, 0xE7F))
             + list(range(0x3040, 0x30FF)) + list(range(0x4E00, 0x4F00)) + list(range(0xAC00, 0xAD00))
             + [0x1F600 + i for i in range(80)] + [0x200B, 0x200D, 0xFE0F, 0x1F3FD, 0x0301, 0x0308, 0x3000, 0xA0, 0x2003]]
    pools = [p if isinstance(p, str) else chr(p) for p in pools]
    out = list(base)
    for i in range(300):
        n = rng.choice([3, 10, 20, 40])
        words = []
        for _ in range(n // 4 + 1):
            w = "".join(rng.choice(pools) for _ in range(rng.randint(1, 8)))
            words.append(w)
        out.append(rng.choice([" ", "  ", "\n", " "]).join(words))
    for i in range(2):
        out.append(" ".join("".join(rng.choice(pools) for _ in range(rng.randint(1, 12))) for _ in range(1700))[:10000])
    out.append(("This is a long text. " * 500)[:10000])
    return out


def corpus(shared, rng):
    sst = read_tsv(os.path.join(shared, "data/sst2/dev.tsv")) + read_tsv(os.path.join(shared, "data/sst2/train.tsv"), 900)
    amazon = []
    for d in ["books", "dvd", "electronics", "kitchen"]:
        amazon += read_tsv(os.path.join(shared, f"data/amazon-reviews/{d}/dev.tsv"), 75)
    return sst[:1360] + amazon + adversarial(rng)


def training_texts(shared):
    texts = read_tsv(os.path.join(shared, "data/sst2/train.tsv"))
    for d in ["books", "dvd", "electronics", "kitchen"]:
        texts += read_tsv(os.path.join(shared, f"data/amazon-reviews/{d}/train.tsv"))
    return texts + adversarial(random.Random(7))[:200]


def wordpiece_cased(texts):
    """Cased WordPiece (BERT-cased style), with user added tokens."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=6000, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    tok.add_tokens([AddedToken("<url>", single_word=True), AddedToken("@@", lstrip=True, rstrip=True), AddedToken("Verdict", normalized=True)])
    return tok, dict(unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def bpe_bytelevel(texts):
    """RoBERTa-style byte-level BPE."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=5000, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      trim_offsets=True, add_prefix_space=False)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    return tok, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                     mask_token="<mask>", cls_token="<s>", sep_token="</s>")


def unigram_metaspace(texts):
    """SentencePiece-style Unigram with Metaspace, trained by `tokenizers`."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    specials = ["<pad>", "</s>", "<unk>", "<cls>", "<sep>"]
    tok.train_from_iterator(texts, trainers.UnigramTrainer(vocab_size=4000, special_tokens=specials, unk_token="<unk>"))
    tok.post_processor = processors.TemplateProcessing(
        single="$A:0 <sep>:0 <cls>:2", pair="$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2",
        special_tokens=[("<sep>", tok.token_to_id("<sep>")), ("<cls>", tok.token_to_id("<cls>"))])
    return tok, dict(unk_token="<unk>", pad_token="<pad>", cls_token="<cls>", sep_token="<sep>", eos_token="</s>")


def bpe_byte_fallback(texts):
    """Llama-style BPE: normalizer Prepend + Replace, no pre-tokenizer, byte fallback for characters
    outside a small alphabet, decoder Replace + ByteFallback + Fuse + Strip."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=3000, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=120))
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    spec["model"]["byte_fallback"] = True
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B:1",
                                                       special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return tok, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>")


def bpe_word_suffix(texts):
    """Word-suffix BPE: Strip/NFD/StripAccents/Lowercase normalizers, WhitespaceSplit + Punctuation +
    individual Digits pre-tokenizers, `end_of_word_suffix`, BPEDecoder."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                 pre_tokenizers.Digits(individual_digits=True)])
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=4000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"],
                                                       end_of_word_suffix="</w>", limit_alphabet=300))
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    return tok, dict(unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")


def train_tokenizers(shared, out, names):
    """Trains the tokenizers `names` (keys of TRAINED) and saves each under OUT/<name>/."""
    texts = training_texts(shared)
    for name in names:
        tok, special = TRAINED[name](texts)
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        tok.save(os.path.join(folder, "tokenizer.json"))
        cfg = dict(tokenizer_class="PreTrainedTokenizerFast", model_max_length=512, clean_up_tokenization_spaces=False, **special)
        json.dump(cfg, open(os.path.join(folder, "tokenizer_config.json"), "w"), indent=1)
        print("trained", name)
    if "bpe-bytelevel" in names:
        write_legacy_bpe(out)


def write_legacy_bpe(out):
    """The byte-level BPE tokenizer also as vocab.json + merges.txt, to test that loading path."""
    bpe = json.load(open(os.path.join(out, "bpe-bytelevel", "tokenizer.json")))
    legacy = os.path.join(out, "bpe-bytelevel-legacy")
    os.makedirs(legacy, exist_ok=True)
    json.dump(bpe["model"]["vocab"], open(os.path.join(legacy, "vocab.json"), "w"), ensure_ascii=False)
    with open(os.path.join(legacy, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for m in bpe["model"]["merges"]:
            f.write((m if isinstance(m, str) else " ".join(m)) + "\n")
    json.dump(dict(tokenizer_class="RobertaTokenizer", model_max_length=512, add_prefix_space=False), open(os.path.join(legacy, "tokenizer_config.json"), "w"))


def unigram_precompiled(texts):
    """A SentencePiece model (trained by `sentencepiece`, nmt_nfkc rules) converted the way `transformers`
    converts ALBERT: Replace/NFKD/StripAccents/Lowercase and the Precompiled charsmap normalizer."""
    import types
    import sentencepiece as spm
    work = tempfile.mkdtemp()
    with open(os.path.join(work, "corpus.txt"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(t.replace("\n", " ") + "\n")
    prefix = os.path.join(work, "sp")
    spm.SentencePieceTrainer.train(input=os.path.join(work, "corpus.txt"), model_prefix=prefix, vocab_size=3000,
                                   model_type="unigram", character_coverage=0.9995, pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                                   control_symbols=["[CLS]", "[SEP]"], user_defined_symbols=["[MASK]"], num_threads=1,
                                   minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    original = types.SimpleNamespace(vocab_file=prefix + ".model", do_lower_case=True, keep_accents=False,
                                     convert_tokens_to_ids=sp.piece_to_id)
    tok = AlbertConverter(original).converted()
    shutil.rmtree(work)
    return tok, dict(unk_token="<unk>", pad_token="<pad>", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


TRAINED = {"wordpiece-cased": wordpiece_cased, "bpe-bytelevel": bpe_bytelevel, "unigram-metaspace": unigram_metaspace,
           "bpe-byte-fallback": bpe_byte_fallback, "bpe-word-suffix": bpe_word_suffix, "unigram-precompiled": unigram_precompiled}


def rows(enc, with_tokens):
    out = []
    n = len(enc["input_ids"])
    for i in range(n):
        r = dict(input_ids=enc["input_ids"][i], token_type_ids=enc["token_type_ids"][i] if "token_type_ids" in enc else None,
                 attention_mask=enc["attention_mask"][i], special_tokens_mask=enc["special_tokens_mask"][i],
                 offsets=[x for o in enc["offset_mapping"][i] for x in o])
        if with_tokens:
            r["tokens"] = enc.encodings[i].tokens
        out.append(r)
    return out


def goldens(tok, texts, rng, path):
    kw = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_token_type_ids=True)
    lines = []
    # Singles, with tokens, all texts.
    for t in texts:
        enc = tok([t], **kw)
        lines.append(dict(case="single", text=t, pair=None, options={}, rows=rows(enc, len(t) < 200), decoded=tok.decode(enc["input_ids"][0])))
    short = [t for t in texts if len(t) < 400]
    # Pairs.
    for i in range(300):
        a, b = rng.choice(short), rng.choice(short)
        enc = tok([a], [b], **kw)
        lines.append(dict(case="pair", text=a, pair=b, options={}, rows=rows(enc, True)))
    # Batches padded to the longest, with pad_to_multiple_of.
    for i in range(40):
        batch = rng.sample(short, 4)
        opts = dict(padding="longest", pad_to_multiple_of=rng.choice([None, 8]))
        enc = tok(batch, **opts, **kw)
        lines.append(dict(case="batch", texts=batch, options=opts, rows=rows(enc, False)))
    # Truncation variants with stride and overflow, padding sides.
    for i in range(200):
        t = rng.choice([t for t in texts if len(t) < 600])
        p = rng.choice(short) if i % 2 else None
        strategy = rng.choice(["longest_first", "only_first", "only_second"] if p else ["longest_first"])
        opts = dict(truncation=strategy, max_length=rng.choice([8, 16, 33, 64]), stride=rng.choice([0, 2, 5]),
                    padding=rng.choice([False, "max_length"]), return_overflowing_tokens=True)
        tok.truncation_side = rng.choice(["right", "left"])
        tok.padding_side = rng.choice(["right", "left"])
        opts_out = dict(opts, truncation_side=tok.truncation_side, padding_side=tok.padding_side)
        try:
            enc = tok([t], [p] if p else None, **opts, **kw)
        except BaseException as e:
            lines.append(dict(case="truncate", text=t, pair=p, options=opts_out, error=str(e)[:200]))
        else:
            lines.append(dict(case="truncate", text=t, pair=p, options=opts_out, rows=rows(enc, False)))
        tok.truncation_side = "right"
        tok.padding_side = "right"
    with open(path, "w", encoding="utf-8") as f:
        for l in lines:
            f.write(json.dumps(l, ensure_ascii=False) + "\n")
    return len(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", required=True)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="Fixtures/tokenizers")
    ap.add_argument("--train", default="all",
                    help="comma-separated tokenizers to train anew (default all; 'none' keeps those in OUT and only "
                         "writes the golden files again). Choices: " + ", ".join(TRAINED))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(1234)
    texts = corpus(args.shared, rng)
    print(f"{len(texts)} texts")
    train = list(TRAINED) if args.train == "all" else [n for n in args.train.split(",") if n and n != "none"]
    unknown = [n for n in train if n not in TRAINED]
    if unknown:
        sys.exit(f"unknown tokenizer(s) {unknown}; choices: {', '.join(TRAINED)}")
    train_tokenizers(args.shared, args.out, train)
    names = sorted(n for n in os.listdir(args.out) if os.path.isdir(os.path.join(args.out, n)))
    # bert-base-uncased vocabulary, from tokenizer.json and from vocab.txt alone.
    vocab_only = "/tmp/verdict-bert-vocab-only"
    shutil.rmtree(vocab_only, ignore_errors=True)
    os.makedirs(vocab_only)
    for f in ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(args.minilm, f), vocab_only)
    refs = {"bert-uncased-json": AutoTokenizer.from_pretrained(args.minilm),
            "bert-uncased-vocab": AutoTokenizer.from_pretrained(vocab_only)}
    for n in names:
        refs[n] = AutoTokenizer.from_pretrained(os.path.join(args.out, n))
    # Tokenizers loaded from different files of the same vocabulary must agree; they then share one golden file.
    shares = {"bert-uncased-vocab": "bert-uncased-json", "bpe-bytelevel-legacy": "bpe-bytelevel"}
    written = {}
    for name, tok in refs.items():
        assert tok.is_fast, name
        path = os.path.join(args.out, f"{name}.golden.jsonl")
        n = goldens(tok, texts, random.Random(99), path)
        if name in shares:
            if open(path).read() == open(written[shares[name]]).read():
                os.remove(path)
                print(name, n, "cases, identical to", shares[name])
                continue
            print(name, n, "cases, differs from", shares[name])
        written[name] = path
        print(name, n, "cases")
    # Goldens are stored gzip-compressed (tests read them through `gzip -dc`).
    for path in written.values():
        subprocess.run(["gzip", "-9nf", path], check=True)


if __name__ == "__main__":
    main()
