#!/usr/bin/env python3
"""Reference outputs for Verdict's decoder and encoder-decoder classifier tests (GPT-2, Llama, Mistral, Qwen2, Qwen3,
mBART), produced by PyTorch `transformers`, in the formats tools/make_family_fixtures.py writes for the encoders.

Usage: python tools/make_decoder_fixtures.py --shared ../shared --out Fixtures/decoders [--retrain-tokenizers] [--only NAMES]

Every model is a random tiny `XxxForSequenceClassification` (hidden 32, 4 heads, intermediate 64, 2 layers, 3 labels
{0: negative, 1: neutral, 2: positive}), seeded with its index in FAMILIES, its weights perturbed by randn*0.05 after
init, saved in fp32 and run in eval mode with attn_implementation="eager" (see FAMILIES for the configs; the saved
config.json is what the tests read, e.g. transformers 5 writes rope settings as `rope_parameters`). Tokenizers are
built with each family's own `transformers` 5 tokenizer class from pieces trained with `tokenizers` on the first
20,000 SST-2 training sentences, and reloaded with AutoTokenizer to check that tokenizer.json + tokenizer_config.json
(the only tokenizer files written) give the same pipeline and the same ids, and that tokenizer.json read as it is
(tokenizers.Tokenizer.from_file) gives those ids too:
  GPT2Tokenizer    byte-level BPE (GPT-2 regex), 399 pieces + "<|endoftext|>" last (bos = eos = unk = pad)
  LlamaTokenizer   BPE with byte fallback, Metaspace "▁" prepended to the first word: <unk>=0 <s>=1 </s>=2, <0x00>..<0xFF>
                   = 3..258, then 241 trained pieces; adds <s>; pad = </s> (shared by tiny-llama, tiny-llama-linear,
                   tiny-mistral, which differ in padding side)
  Qwen2Tokenizer   byte-level BPE trained with Qwen2's split regex (NFC), 399 pieces + "<|endoftext|>" last
                   (eos = unk = pad, no bos, nothing added)
  MBartTokenizer   Unigram pieces in fairseq layout: <s>=0 <pad>=1 </s>=2 <unk>=3, pieces, the 25 language codes,
                   <mask>; src_lang en_XX, so a text is "pieces </s> en_XX"
model_max_length is 64 everywhere. The Unigram trainer is not deterministic from run to run, so an existing
tokenizer.json is reused unless --retrain-tokenizers is given; everything else is seeded, and a rerun rewrites every
file byte for byte.

Writes under OUT/:
  <name>/                    config.json, model.safetensors, tokenizer.json, tokenizer_config.json
  decoders.golden.json       per name: texts (SST-2 dev rows 0-99 and four edge cases), input_ids (each text alone,
                             truncation=True), logits (padded batches of 8, padding=True, truncation=True, the
                             tokenizer's own padding side), logits_right and logits_left (the same batches with
                             padding_side forced to right / left), scores (text-classification pipeline, top_k=None,
                             truncation=True, batch_size=8, so the pipeline pads on the tokenizer's own side; null
                             for the empty text of tiny-qwen2, whose left-padded batch the pipeline cannot collate), and
                             hidden_texts (24); pairs (dev rows 100-123 two by two) and pair_logits only for the
                             tokenizers whose pair template separates the two texts (LlamaTokenizer: <s> A <s> B);
                             GPT-2, Qwen2 and mBART just concatenate A and B, so those families have no pair keys
  <name>.hidden.safetensors  for texts 0-23, each alone and unpadded: `hidden.<i>` = model.base_model(...)
                             .last_hidden_state[0], [tokens, 32] fp32, and `input_ids.<i>`; for mBART the base model
                             is called as MBartForSequenceClassification calls it (decoder_input_ids =
                             shift_tokens_right(input_ids, pad)), so `hidden.<i>` is the decoder's last hidden state
                             and `encoder_hidden.<i>` the encoder's
  decoders.meta.json         per name: model type, tokenizer class, padding side, pad/bos/eos ids, base-model prefix,
                             head parameters, the no-decay parameters of the AdamW recipe, the config keys set to 0
                             to switch dropout off, the rotary inv_freq transformers computed (rope), the largest
                             |logits_left - alone| and |logits_right - alone| over the texts that run alone, notes;
                             under "errors": what transformers raises for a batch of 2 when config.pad_token_id is None
                             (every class), and for mBART when the examples have different numbers of </s>
  training/<name>.<problem>.grads.safetensors, training/<name>.adamw20.safetensors
                             exactly as tools/make_family_fixtures.py (its train_family): the 6 texts of
                             Fixtures/training/training.golden.json, padding=True on the tokenizer's own side
Keys are the names of named_parameters(), the same that save_pretrained writes.
"""
import argparse, json, os, sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from tokenizers import Tokenizer, Regex, models, normalizers, pre_tokenizers, trainers
import transformers
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, pipeline
from transformers.models.mbart.tokenization_mbart import FAIRSEQ_LANGUAGE_CODES
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX as QWEN2_REGEX

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_fixtures as fam  # noqa: E402
from make_family_fixtures import VOCAB, MAX_LEN, HIDDEN_TEXTS, ATTN, Pieces, batched_logits, save  # noqa: E402
from make_model_fixtures import LABELS3, read_tsv  # noqa: E402

LLAMA_PIECES = 241   # trained pieces after <unk> <s> </s> and the 256 byte tokens: 500 ids in all
EOT = "<|endoftext|>"

LABELS = dict(num_labels=3, id2label=LABELS3, label2id={v: k for k, v in LABELS3.items()})
LLAMA_LIKE = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=2, max_position_embeddings=64,
                  rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=False)

# (name, model_type, tokenizer, padding side, config kwargs)
FAMILIES = [
    ("tiny-gpt2", "gpt2", "gpt2", "right", dict(n_embd=32, n_layer=2, n_head=4, n_inner=64, n_positions=64,
                                                 activation_function="gelu_new")),
    ("tiny-llama", "llama", "llama", "left", dict(**LLAMA_LIKE, num_key_value_heads=2, attention_bias=False, mlp_bias=False,
                                                   rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 16},
                                                   rope_theta=10000.0)),
    ("tiny-llama-linear", "llama", "llama", "right", dict(**LLAMA_LIKE, num_key_value_heads=4, attention_bias=True, mlp_bias=True,
                                                           rope_scaling={"rope_type": "linear", "factor": 2.0}, rope_theta=10000.0)),
    ("tiny-mistral", "mistral", "llama", "left", dict(**LLAMA_LIKE, num_key_value_heads=1, sliding_window=8, rope_theta=10000.0)),
    ("tiny-qwen2", "qwen2", "qwen2", "left", dict(**LLAMA_LIKE, num_key_value_heads=2, use_sliding_window=False, rope_theta=10000.0)),
    ("tiny-qwen3", "qwen3", "qwen2", "right", dict(**LLAMA_LIKE, num_key_value_heads=2, head_dim=16, attention_bias=False,
                                                    use_sliding_window=False, rope_theta=10000.0)),
    ("tiny-mbart", "mbart", "mbart", "right", dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                                                    decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                                                    max_position_embeddings=64, scale_embedding=True, activation_function="gelu")),
]

# Config keys that switch every dropout of the sequence-classification path off, per model type (the saved configs keep
# the defaults; eval mode makes them irrelevant for the goldens). GPT-2's summary_first_dropout belongs to the
# double-heads model's SequenceSummary, which GPT2ForSequenceClassification does not have (its head is `score` alone).
DROPOUT = {
    "gpt2": {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0},
    "llama": {"attention_dropout": 0.0},
    "mistral": {"attention_dropout": 0.0},
    "qwen2": {"attention_dropout": 0.0},
    "qwen3": {"attention_dropout": 0.0},
    "mbart": {"dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0, "classifier_dropout": 0.0},
}

POOLING = ("The head scores every position and takes, per row, the rightmost position whose input id is not "
           "config.pad_token_id ((arange(T) * (input_ids != pad)).argmax(-1)), so it works for left and right padding; a row "
           "that is all padding takes position 0.")
CAUSAL_MASK = ("Eager attention adds torch.finfo(float32).min to masked scores (causal and padding mask combined); a query "
               "row with every key masked (a pad query before the first real token under left padding, or the all-pad row "
               "of the empty text) therefore attends uniformly to all T keys, future ones included.")
PAD_EMBEDDING = "nn.Embedding(padding_idx=pad_token_id): the pad token's embedding row never gets a gradient."
LLAMA_TOKENIZER = ("LlamaTokenizer: transformers 5 does not write add_bos_token to tokenizer_config.json and the reloaded "
                   "tokenizer reports add_bos_token False, yet it adds <s>: the TemplateProcessing post_processor of "
                   "tokenizer.json (<s> $A, pair <s> $A <s> $B) is kept on reload. tokenizer.json's BPE has unk_token null, "
                   "byte_fallback true, fuse_unk true; pre_tokenizer Metaspace(prepend_scheme first, split false), no "
                   "normalizer; uppercase letters and characters outside the trained alphabet become <0xNN> byte tokens.")
NOTES = {
    "gpt2": ("GPT2Model takes position_ids = arange(T) whatever the attention mask (transformers 5 does not derive them "
             "from the mask), so a left-padded text sees position embeddings shifted by its padding and logits_left (and "
             "any left-padded batch) depend on the batch; right padding matches each text alone. " + POOLING + " "
             + CAUSAL_MASK + " The empty text encodes to no tokens at all (no bos is added): in a batch its row is all "
             "padding with an all-zero attention mask, and it cannot be run alone. Attention/MLP projections are "
             "Conv1D with weight [in, out] (c_attn [32, 96] = q|k|v, c_proj [32, 32], mlp.c_fc [32, 64], mlp.c_proj "
             "[64, 32]); wte has no padding_idx. The saved config keeps the default dropouts 0.1 (eval mode)."),
    "llama": ("position_ids = arange(T) whatever the padding; rotary attention depends only on i - j, so left padding "
              "changes logits only by rounding. " + POOLING + " " + CAUSAL_MASK + " " + PAD_EMBEDDING + " Pad is </s> "
              "(= eos); <s> is added to every text, so the empty text is [<s>]. The rope_scaling given to the config is "
              "saved as config.json `rope_parameters` (with rope_theta inside); rope.inv_freq is what transformers "
              "computed from it. " + LLAMA_TOKENIZER),
    "mistral": ("As llama (GQA with 1 key/value head), plus sliding_window 8: query i attends to keys j with i - 8 < j <= i "
                "(the last 8 positions, itself included), in every layer, positions counted in the padded sequence (so "
                "left padding does not change which real tokens a real query sees). head_dim is not given; config.json "
                "says 8 (hidden_size / heads). " + POOLING + " " + PAD_EMBEDDING + " " + LLAMA_TOKENIZER),
    "qwen2": ("q/k/v projections have biases, o_proj not. use_sliding_window false: every layer is full attention "
              "(config.json layer_types), sliding_window is not applied. " + POOLING + " " + CAUSAL_MASK + " "
              + PAD_EMBEDDING + " No bos: the empty text encodes to no tokens (all-pad row in a batch, cannot run alone)."),
    "qwen3": ("head_dim 16 != hidden/heads: q_proj [64, 32], k_proj/v_proj [32, 32], o_proj [32, 64]; q_norm and k_norm "
              "are RMSNorms over each head's 16 channels (weight [16], eps rms_norm_eps) applied before rope. No biases. "
              + POOLING + " " + CAUSAL_MASK + " " + PAD_EMBEDDING + " The empty text encodes to no tokens."),
    "mbart": ("MBartForSequenceClassification runs MBartModel with decoder_input_ids = shift_tokens_right(input_ids, pad): "
              "the last non-pad token (en_XX) moves to the front, the rest shift right by one; the decoder gets no "
              "padding mask (causal only), the cross-attention uses the encoder attention_mask. The head (dense 32x32, "
              "tanh, out_proj) reads the decoder state at the last </s> (eos_token_id) of each row. Learned positions "
              "with offset 2 (embed_positions [66, 32]), embeddings scaled by sqrt(d_model), layernorm_embedding, "
              "pre-norm layers and a final layer_norm in encoder and decoder. shift_tokens_right finds the start token "
              "at index (non-pad count - 1), which is only right for right padding, and positions are absolute: "
              "logits_left is what transformers does with left padding, not what the model means. shared.weight is "
              "tied to encoder.embed_tokens.weight and decoder.embed_tokens.weight (only model.shared.weight is a "
              "named parameter / saved key); padding_idx 1 (<pad>) gets no gradient."),
}
NO_PAIRS = ("Pairs omitted: this tokenizer's pair template just concatenates the two texts ({}), with no separator.")
PAIR_TEMPLATES = {"gpt2": "$A $B", "qwen2": "$A $B", "mbart": "$A $B </s> en_XX"}


# ---------------------------------------------------------------------------------------------- tokenizers

class DecoderPieces(Pieces):
    """The encoder script's piece trainer, plus the decoders' inventories."""

    def _bytelevel(self, normalizer, pre_tokenizer):
        """Byte-level BPE with no specials in training: VOCAB - 1 pieces, then <|endoftext|> last (as GPT-2 and Qwen2)."""
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizer
        tok.pre_tokenizer = pre_tokenizer
        tok.train_from_iterator(self.texts, trainers.BpeTrainer(vocab_size=VOCAB - 1, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                                show_progress=False))
        spec = json.loads(tok.to_str())
        vocab = dict(spec["model"]["vocab"])
        vocab[EOT] = len(vocab)
        return vocab, [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in spec["model"]["merges"]]

    def gpt2(self):
        return self._bytelevel(None, pre_tokenizers.ByteLevel(add_prefix_space=False))

    def qwen2(self):
        return self._bytelevel(normalizers.NFC(), pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]))

    def llama(self):
        """SentencePiece-BPE-like: <unk> <s> </s>, the 256 byte-fallback tokens, then pieces trained on "▁"-marked words."""
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
        tok.train_from_iterator(self.texts, trainers.BpeTrainer(vocab_size=LLAMA_PIECES, show_progress=False))
        spec = json.loads(tok.to_str())
        vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
        for b in range(256):
            vocab[f"<0x{b:02X}>"] = len(vocab)
        for piece, _ in sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1]):
            assert piece not in vocab, piece
            vocab[piece] = len(vocab)
        return vocab, [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in spec["model"]["merges"]]


def build_tokenizer(kind, pieces, padding_side):
    kw = dict(model_max_length=MAX_LEN, padding_side=padding_side)
    if kind == "gpt2":
        vocab, merges = pieces.get("gpt2")
        return transformers.GPT2Tokenizer(vocab=vocab, merges=merges, unk_token=EOT, bos_token=EOT, eos_token=EOT, pad_token=EOT, **kw)
    if kind == "llama":
        vocab, merges = pieces.get("llama")
        return transformers.LlamaTokenizer(vocab=vocab, merges=merges, add_bos_token=True, add_eos_token=False, pad_token="</s>", **kw)
    if kind == "qwen2":
        vocab, merges = pieces.get("qwen2")
        return transformers.Qwen2Tokenizer(vocab=vocab, merges=merges, **kw)
    if kind == "mbart":
        vocab = ([("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces.get("unigram")
                 + [(code, 0.0) for code in FAIRSEQ_LANGUAGE_CODES] + [("<mask>", 0.0)])
        return transformers.MBartTokenizer(vocab=vocab, src_lang="en_XX", **kw)
    raise ValueError(kind)


TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"]


def make_tokenizer(kind, path, pieces, padding_side, retrain, probe):
    """Saves the family's tokenizer to `path` (unless one is there and `retrain` is off) and returns it as
    AutoTokenizer loads it back, after checking that the reload encodes exactly like the original and that
    tokenizer.json + tokenizer_config.json are the only tokenizer files."""
    os.makedirs(path, exist_ok=True)
    if os.path.exists(os.path.join(path, "tokenizer.json")) and not retrain:
        back = AutoTokenizer.from_pretrained(path)
        assert back.padding_side == padding_side, (path, back.padding_side)
        check_verbatim(path, back, probe)
        return back
    for f in os.listdir(path):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(path, f))
    tok = build_tokenizer(kind, pieces, padding_side)
    tok.save_pretrained(path)
    extra = sorted(set(os.listdir(path)) - set(TOKENIZER_FILES) - {"config.json", "model.safetensors"})
    assert not extra, (path, extra)
    back = AutoTokenizer.from_pretrained(path)
    assert back.padding_side == padding_side and back.pad_token == tok.pad_token and back.model_max_length == MAX_LEN, path
    fam.check_reload(path, tok, back, probe)
    check_verbatim(path, back, probe)
    return back


def check_verbatim(path, tok, probe):
    """tokenizer.json read as it is (tokenizers.Tokenizer.from_file, which is what Verdict reads) gives the ids
    AutoTokenizer gives, without truncation, for every probe text and pair."""
    raw = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    for a, b in [(t, None) for t in probe[0]] + [tuple(p) for p in probe[1]]:
        assert raw.encode(a, b).ids == tok(a, b)["input_ids"], (path, a, b)


def pair_template(tok):
    """The pair template of the tokenizer's post-processor, e.g. "<s> $A <s> $B"."""
    pp = json.loads(tok.backend_tokenizer.to_str())["post_processor"]
    if not pp or pp.get("type") != "TemplateProcessing":
        return None
    return " ".join(("$" + p["Sequence"]["id"]) if "Sequence" in p else p["SpecialToken"]["id"] for p in pp["pair"])


# ---------------------------------------------------------------------------------------------- models

def config_for(model_type, kwargs, tok):
    ids = dict(pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
               bos_token_id=tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id)
    if model_type == "mbart":
        ids.update(decoder_start_token_id=tok.eos_token_id, forced_eos_token_id=tok.eos_token_id)
    return AutoConfig.for_model(model_type, vocab_size=len(tok), **LABELS, **ids, **kwargs)


def alone_logits(model, tok, texts):
    """Each text alone (None where it encodes to no tokens)."""
    out = []
    with torch.no_grad():
        for t in texts:
            enc = tok(t, truncation=True, return_tensors="pt")
            out.append(model(**enc).logits[0].tolist() if enc["input_ids"].shape[1] else None)
    return out


def max_diff(got, alone):
    return max(abs(x - y) for g, a in zip(got, alone) if a is not None for x, y in zip(g, a))


def golden(model, tok, texts, pairs, with_pairs):
    clf = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
    g = {
        "texts": texts,
        "input_ids": tok(texts, truncation=True)["input_ids"],
        "logits": batched_logits(model, tok, texts),
        "logits_right": batched_logits(model, tok, texts, side="right"),
        "logits_left": batched_logits(model, tok, texts, side="left"),
    }
    if with_pairs:
        g["pairs"] = pairs
        g["pair_logits"] = batched_logits(model, tok, [p[0] for p in pairs], [p[1] for p in pairs])
    g["scores"], pipeline_error = pipeline_scores(clf, tok, texts)
    g["hidden_texts"] = HIDDEN_TEXTS
    return g, pipeline_error


def pipeline_scores(clf, tok, texts, size=8):
    """The pipeline's scores in batches of `size`. Its collate function cannot left-pad an input of no tokens
    (tensor[i, -0:] is the whole row), so where that fails, each batch runs without its empty inputs (which leaves
    the other rows' padded tensors unchanged, the empty input being the shortest) and their scores are None."""
    try:
        return clf(texts, top_k=None, truncation=True, batch_size=size), None
    except RuntimeError as e:
        error = f"{type(e).__name__}: {e}"
    empty = {i for i, t in enumerate(texts) if not tok(t, truncation=True)["input_ids"]}
    assert empty and tok.padding_side == "left", error
    scores = [None] * len(texts)
    for s in range(0, len(texts), size):
        idx = [i for i in range(s, min(s + size, len(texts))) if i not in empty]
        for i, r in zip(idx, clf([texts[i] for i in idx], top_k=None, truncation=True, batch_size=size)):
            scores[i] = r
    return scores, error


def hidden_states(model, tok, texts, out):
    tensors = {}
    with torch.no_grad():
        for i, text in enumerate(texts[:HIDDEN_TEXTS]):
            enc = tok(text, truncation=True, return_tensors="pt")
            o = model.base_model(**enc)  # mBART: MBartModel derives decoder_input_ids = shift_tokens_right(input_ids, pad)
            h = o.last_hidden_state[0]
            assert h.shape == (enc["input_ids"].shape[1], 32), h.shape
            tensors[f"hidden.{i}"] = h.contiguous()
            tensors[f"input_ids.{i}"] = enc["input_ids"][0].contiguous()
            if model.config.model_type == "mbart":
                tensors[f"encoder_hidden.{i}"] = o.encoder_last_hidden_state[0].contiguous()
    save(tensors, out)


def rope_of(model):
    """The rotary frequencies transformers computed from the config (None for learned positions)."""
    rot = getattr(model.base_model, "rotary_emb", None)
    if rot is None:
        return None
    return {"inv_freq": rot.inv_freq.tolist(), "attention_scaling": rot.attention_scaling, "rope_type": rot.rope_type}


def error_of(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 — the message is the fixture
        return f"{type(e).__name__}: {e}"
    return None


def errors(path, model_type, model, tok):
    """What transformers raises for a batch of 2 without config.pad_token_id, and (mBART) for unequal </s> counts."""
    out = {}
    no_pad = AutoModelForSequenceClassification.from_pretrained(path, attn_implementation=ATTN, pad_token_id=None).eval()
    assert no_pad.config.pad_token_id is None
    enc = tok(["a gripping film", "dull"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out["pad_token_id_none_batch_2"] = error_of(lambda: no_pad(**enc))
        one = tok(["a gripping film"], return_tensors="pt")
        out["pad_token_id_none_batch_1"] = error_of(lambda: no_pad(**one))
    if model_type == "mbart":
        a = tok("a gripping film", add_special_tokens=False)["input_ids"]
        eos, lang, pad = tok.eos_token_id, tok.convert_tokens_to_ids("en_XX"), tok.pad_token_id
        ids = torch.tensor([a + [eos, eos, lang], a + [eos, lang, pad]])
        with torch.no_grad():
            out["different_eos_counts"] = error_of(lambda: model(input_ids=ids, attention_mask=(ids != pad).long()))
        out["different_eos_counts_input_ids"] = ids.tolist()
    return out


# ---------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="Fixtures/decoders")
    ap.add_argument("--retrain-tokenizers", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated names (the golden/meta files keep the other entries)")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "training"), exist_ok=True)
    fam.DROPOUT.update(DROPOUT)  # train_family / load_for_training look the dropout keys up there

    sst = read_tsv(os.path.join(args.shared, "data/sst2/dev.tsv"))
    texts = sst[:100] + ["I really love this book", "", "a " * 200, "Ünïcödé 北京 🤗 text"]
    pairs = [[sst[i], sst[i + 1]] for i in range(100, 124, 2)]
    pieces = DecoderPieces(args.shared)
    only = set(filter(None, args.only.split(",")))

    golden_path = os.path.join(args.out, "decoders.golden.json")
    meta_path = os.path.join(args.out, "decoders.meta.json")
    goldens = json.load(open(golden_path, encoding="utf-8")) if only and os.path.exists(golden_path) else {}
    metas = json.load(open(meta_path, encoding="utf-8")) if only and os.path.exists(meta_path) else {}
    for seed, (name, model_type, tok_kind, side, kwargs) in enumerate(FAMILIES):
        if only and name not in only:
            continue
        print(name, flush=True)
        path = os.path.join(args.out, name)
        tok = make_tokenizer(tok_kind, path, pieces, side, args.retrain_tokenizers, (texts, pairs))
        model = fam.save_model(config_for(model_type, kwargs, tok), path, seed)
        template = pair_template(tok)
        with_pairs = tok_kind == "llama"
        assert with_pairs or template == PAIR_TEMPLATES[tok_kind], (name, template)
        goldens[name], pipeline_error = golden(model, tok, texts, pairs, with_pairs)
        hidden_states(model, tok, texts, os.path.join(args.out, f"{name}.hidden.safetensors"))
        prefix = model.base_model_prefix + "."
        no_decay = fam.train_family(name, model_type, path, prefix, os.path.join(args.out, "training"))
        alone = alone_logits(model, tok, texts)
        cfg = json.load(open(os.path.join(path, "config.json"), encoding="utf-8"))
        notes = NOTES[model_type]
        if not with_pairs:
            notes += " " + NO_PAIRS.format(template)
        if pipeline_error:
            notes += (" The text-classification pipeline fails on a batch holding the empty text (no tokens) with left padding "
                      "(errors.pipeline_empty_text_left_padding): scores of the empty text is null, its batch ran without it.")
        metas[name] = {
            "model_type": model_type,
            "architecture": cfg["architectures"][0],
            "tokenizer_class": json.load(open(os.path.join(path, "tokenizer_config.json"), encoding="utf-8"))["tokenizer_class"],
            "padding_side": tok.padding_side,
            "pair_template": template,
            "pad_token_id": cfg["pad_token_id"],
            "bos_token_id": cfg.get("bos_token_id"),
            "eos_token_id": cfg["eos_token_id"],
            "tokenizer_pad_token": tok.pad_token,
            "base_model_prefix": prefix,
            "head": [n for n, _ in model.named_parameters() if not n.startswith(prefix)],
            "no_decay": no_decay,
            "dropout_off": DROPOUT[model_type],
            "attn_implementation": ATTN,
            "vocab_size": model.config.vocab_size,
            "model_max_length": tok.model_max_length,
            "seed": seed,
            "rope": rope_of(model),
            "max_abs_diff_vs_alone": {"logits_left": max_diff(goldens[name]["logits_left"], alone),
                                      "logits_right": max_diff(goldens[name]["logits_right"], alone),
                                      "texts_alone": sum(a is not None for a in alone)},
            "errors": {**errors(path, model_type, model, tok),
                       **({"pipeline_empty_text_left_padding": pipeline_error} if pipeline_error else {})},
            "notes": notes,
        }
    with open(golden_path, "w", encoding="utf-8") as f:
        json.dump(goldens, f, ensure_ascii=False)
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(metas, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
