#!/usr/bin/env python3
"""Reference outputs for Verdict's model-family tests (RoBERTa, XLM-R, CamemBERT, ELECTRA, ALBERT, MPNet,
ModernBERT, DeBERTa-v2, Longformer), produced by PyTorch `transformers`.

Usage: python tools/make_family_fixtures.py --shared ../shared --out Fixtures/families [--retrain-tokenizers] [--only NAMES]
       (after make_model_fixtures.py, whose tiny-wordpiece tokenizer ELECTRA reuses)

Every model is a random tiny `XxxForSequenceClassification` (hidden 32, 4 heads, intermediate 64, 3 labels
{0: negative, 1: neutral, 2: positive}), its weights perturbed by randn*0.05 after init so that the scores are far
from uniform, saved in fp32 and run in eval mode with attn_implementation="eager" (see FAMILIES for the configs).
Tokenizers are built with each family's own `transformers` 5 tokenizer class from pieces trained with `tokenizers`
on the first 20,000 SST-2 training sentences (~400 pieces, to keep the checkpoints small): byte-level BPE for RoBERTa
and Longformer (shared) and ModernBERT, one Unigram piece set laid out as XLM-R, CamemBERT, ALBERT and DeBERTa-v3 lay
out their vocabularies, WordPiece for MPNet; ELECTRA reuses Fixtures/models/tiny-wordpiece. transformers 5 rebuilds
normalizer / pre-tokenizer / decoder (and for most classes the post-processor) in Python from the class rather than
reading them from tokenizer.json, so each tokenizer is written by that class and reloaded to check that the file and
the class agree. model_max_length is 64 everywhere, so truncation stays inside the position tables. AlbertTokenizer
returns no token_type_ids in transformers 5, so ALBERT's pairs run with token type 0 throughout.
The Unigram and WordPiece trainers are not deterministic from run to run, so an existing tokenizer.json is reused
unless --retrain-tokenizers is given; everything else is seeded, and a rerun rewrites every file byte for byte.

Writes under OUT/:
  <name>/                    config.json, model.safetensors, tokenizer.json, tokenizer_config.json
  families.golden.json       per name: texts (SST-2 dev rows 0-99 and four edge cases), pairs (dev rows 100-123 two
                             by two), input_ids (each text alone, truncation=True), logits and pair_logits (padded
                             batches of 8, padding=True, truncation=True, right padding), scores (text-classification
                             pipeline, top_k=None, truncation=True, default function), hidden_texts (24)
  <name>.hidden.safetensors  for texts 0-23, each alone and unpadded: `hidden.<i>` = model.base_model(...)
                             .last_hidden_state[0], [tokens, 32] fp32, and `input_ids.<i>`. Longformer's base model
                             pads the input to a multiple of the attention window and cuts the padding off again, so
                             `hidden.<i>` has one row per real token; it runs with local attention only (no
                             global_attention_mask), while the classifier puts global attention on the first token:
                             `hidden_global.<i>` is the base model with that global_attention_mask
  mpnet-buckets.json         MPNet's relative-position bucket of each distance -600..600
  families.meta.json         per name: base-model prefix, head parameters (those outside the prefix), the no-decay
                             parameters of the AdamW recipe, the config keys set to 0 to switch dropout off, notes
  training/<name>.<problem>.grads.safetensors   as tools/make_training_fixtures.py does for BERT: on the 6 texts
                             of Fixtures/training/training.golden.json (padding=True), dropout off, model.train(),
                             for single_label_classification, multi_label_classification and regression: `loss` and
                             `grad.<name>` of every parameter that has a gradient; for regression (num_labels=1,
                             ignore_mismatched_sizes, torch.manual_seed(0) before loading) also `param.<name>` of
                             every head parameter
  training/<name>.adamw20.safetensors   the weights after 20 AdamW steps (lr 1e-3, weight decay 0.01 on the
                             parameters Trainer.get_decay_parameter_names picks, i.e. not on biases, norms or
                             anything whose name contains "bias"; linear schedule with 5 warmup steps; max_grad_norm
                             1.0) on texts 0-2 and 3-5 alternately, single-label
Keys are the names of named_parameters(), the same that save_pretrained writes.
"""
import argparse, csv, json, os, shutil, sys

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from safetensors.torch import save_file, load_file
from tokenizers import Tokenizer, AddedToken, models, normalizers, pre_tokenizers, processors, decoders, trainers
import transformers
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerFast,
                          Trainer, get_linear_schedule_with_warmup, pipeline)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import LABELS3, read_tsv  # noqa: E402
from make_training_fixtures import TEXTS, SINGLE, MULTI, REGRESSION, labels_for  # noqa: E402

csv.field_size_limit(sys.maxsize)
torch.set_num_threads(2)
transformers.logging.set_verbosity_error()
transformers.logging.disable_progress_bar()

VOCAB = 400          # pieces per trained tokenizer (byte-level BPE needs 256 + specials at least)
MAX_LEN = 64         # model_max_length of every tokenizer
HIDDEN_TEXTS = 24
PROBLEMS = ["single_label_classification", "multi_label_classification", "regression"]
ATTN = "eager"

COMMON = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_labels=3, id2label=LABELS3,
              label2id={v: k for k, v in LABELS3.items()})

# (name, model_type, tokenizer, config kwargs)
FAMILIES = [
    ("tiny-roberta", "roberta", "roberta", dict(num_hidden_layers=2, max_position_embeddings=66, type_vocab_size=1)),
    ("tiny-xlm-roberta", "xlm-roberta", "xlm-roberta", dict(num_hidden_layers=2, max_position_embeddings=66, type_vocab_size=1)),
    ("tiny-camembert", "camembert", "camembert", dict(num_hidden_layers=2, max_position_embeddings=66, type_vocab_size=1)),
    ("tiny-electra", "electra", "electra", dict(num_hidden_layers=2, embedding_size=16, max_position_embeddings=64)),
    ("tiny-albert", "albert", "albert", dict(num_hidden_layers=3, num_hidden_groups=1, inner_group_num=1, embedding_size=16,
                                             hidden_act="gelu_new", max_position_embeddings=64)),
    ("tiny-albert-groups", "albert", "albert", dict(num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2, embedding_size=16,
                                                    hidden_act="gelu_new", max_position_embeddings=64)),
    ("tiny-mpnet", "mpnet", "mpnet", dict(num_hidden_layers=2, max_position_embeddings=66, relative_attention_num_buckets=32)),
    ("tiny-modernbert", "modernbert", "modernbert", dict(num_hidden_layers=3, global_attn_every_n_layers=2, local_attention=8,
                                                         max_position_embeddings=64, classifier_pooling="mean")),
    ("tiny-modernbert-cls", "modernbert", "modernbert", dict(num_hidden_layers=3, global_attn_every_n_layers=2, local_attention=8,
                                                             max_position_embeddings=64, classifier_pooling="cls")),
    ("tiny-deberta-v2", "deberta-v2", "deberta-v2", dict(num_hidden_layers=2, max_position_embeddings=64, relative_attention=True,
                                                         pos_att_type=["p2c", "c2p"], position_buckets=8, max_relative_positions=-1,
                                                         share_att_key=True, norm_rel_ebd="layer_norm", position_biased_input=False,
                                                         type_vocab_size=0)),
    ("tiny-deberta-v2-classic", "deberta-v2", "deberta-v2", dict(num_hidden_layers=2, max_position_embeddings=64, relative_attention=True,
                                                                 pos_att_type=["p2c", "c2p"], position_buckets=-1, max_relative_positions=16,
                                                                 share_att_key=False, norm_rel_ebd="none", position_biased_input=True,
                                                                 type_vocab_size=2)),
    ("tiny-longformer", "longformer", "roberta", dict(num_hidden_layers=2, max_position_embeddings=66, type_vocab_size=1,
                                                      attention_window=[4, 4])),
]

# Config keys that switch every dropout of the sequence-classification path off, per model type.
BERT_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
DROPOUT = {
    "roberta": {**BERT_DROPOUT, "classifier_dropout": 0.0},
    "xlm-roberta": {**BERT_DROPOUT, "classifier_dropout": 0.0},
    "camembert": {**BERT_DROPOUT, "classifier_dropout": 0.0},
    "electra": {**BERT_DROPOUT, "classifier_dropout": 0.0},
    "albert": {**BERT_DROPOUT, "classifier_dropout_prob": 0.0},
    "mpnet": dict(BERT_DROPOUT),  # the head uses hidden_dropout_prob
    "modernbert": {"embedding_dropout": 0.0, "attention_dropout": 0.0, "mlp_dropout": 0.0, "classifier_dropout": 0.0},
    "deberta-v2": {**BERT_DROPOUT, "pooler_dropout": 0.0},  # cls_dropout is unset, so the head falls back to hidden_dropout_prob
    "longformer": dict(BERT_DROPOUT),  # the head uses hidden_dropout_prob
}

NOTES = {
    "tiny-longformer": "base_model pads input_ids (with pad_token_id, so position id = padding_idx) and attention_mask (with 0) to "
                       "a multiple of max(attention_window) = 4, then cuts last_hidden_state back to the input length. hidden.<i> "
                       "has no global attention; hidden_global.<i> has global_attention_mask on token 0, which "
                       "LongformerForSequenceClassification adds when none is given (so logits, scores and training use it).",
    "albert": "AlbertTokenizer (transformers 5) has model_input_names [input_ids, attention_mask]: it returns no "
              "token_type_ids, so pair_logits and the pipeline ran with token type 0 everywhere although the pair template "
              "in tokenizer.json gives segment B type 1.",
    "modernbert": "tokenizer_config.json says PreTrainedTokenizerFast (transformers 5 loads it as TokenizersBackend, i.e. "
                  "tokenizer.json verbatim). layer_types [full, sliding, full]; sliding layers attend to |i - j| <= "
                  "local_attention // 2 = 4 (rope theta 10000), full layers use rope theta 160000.",
    "electra": "tokenizer files copied from Fixtures/models/tiny-wordpiece (BertTokenizer).",
}

# ---------------------------------------------------------------------------------------------- tokenizers

class Pieces:
    """Trains the shared piece inventories once, on demand."""

    def __init__(self, shared):
        self.texts = read_tsv(os.path.join(shared, "data/sst2/train.tsv"))[:20000]
        self.cache = {}

    def get(self, kind):
        if kind not in self.cache:
            self.cache[kind] = getattr(self, kind)()
        return self.cache[kind]

    def bytelevel(self):
        """RoBERTa-style byte-level BPE: <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4, then the alphabet and merges."""
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.train_from_iterator(self.texts, trainers.BpeTrainer(
            vocab_size=VOCAB, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
        spec = json.loads(tok.to_str())
        return spec["model"]["vocab"], [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in spec["model"]["merges"]]

    def unigram(self):
        """SentencePiece-style Unigram pieces (Metaspace), without specials: [(piece, score)]."""
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.train_from_iterator(self.texts, trainers.UnigramTrainer(vocab_size=VOCAB, special_tokens=["<unk>"], unk_token="<unk>",
                                                                    show_progress=False))
        return [(p, s) for p, s in json.loads(tok.to_str())["model"]["vocab"] if p != "<unk>"]

    def wordpiece(self):
        """MPNet-style uncased WordPiece: <s>=0 <pad>=1 </s>=2 <unk>=3, the pieces, then <mask>."""
        tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.train_from_iterator(self.texts, trainers.WordPieceTrainer(vocab_size=VOCAB, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                                                      show_progress=False))
        vocab = dict(tok.get_vocab())
        vocab["<mask>"] = len(vocab)
        return vocab

    def modernbert(self):
        """ModernBERT-style byte-level BPE (NFC, ByteLevel, [CLS] A [SEP]), specials appended after the pieces
        ([UNK] [CLS] [SEP] [PAD] [MASK], as in answerdotai/ModernBERT-base)."""
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        tok.train_from_iterator(self.texts, trainers.BpeTrainer(vocab_size=VOCAB - 5, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                                show_progress=False))
        tok.add_special_tokens([AddedToken("[UNK]", special=True), AddedToken("[CLS]", special=True), AddedToken("[SEP]", special=True),
                                AddedToken("[PAD]", special=True), AddedToken("[MASK]", lstrip=True, special=True)])
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
            special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
        return tok


def build_tokenizer(kind, pieces, models_dir):
    """A tokenizer object of the family's own transformers class (so that reloading tokenizer.json with that class,
    which rebuilds normalizer / pre-tokenizer / decoder in Python, gives the same pipeline as the file)."""
    kw = dict(model_max_length=MAX_LEN)
    if kind == "roberta":
        vocab, merges = pieces.get("bytelevel")
        return transformers.RobertaTokenizer(vocab=vocab, merges=merges, **kw)
    if kind == "xlm-roberta":
        vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces.get("unigram") + [("<mask>", 0.0)]
        return transformers.XLMRobertaTokenizer(vocab=vocab, **kw)
    if kind == "camembert":  # CamembertConverter's layout: <s>=5 and </s>=6 come after the NOTUSED placeholders
        vocab = ([("<s>NOTUSED", 0.0), ("<pad>", 0.0), ("</s>NOTUSED", 0.0), ("<unk>", 0.0), ("<unk>NOTUSED", -100.0), ("<s>", 0.0),
                  ("</s>", 0.0)] + pieces.get("unigram") + [("<mask>", 0.0)])
        return transformers.CamembertTokenizer(vocab=vocab, **kw)
    if kind == "albert":
        vocab = [("<pad>", 0.0), ("<unk>", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[MASK]", 0.0)] + pieces.get("unigram")
        return transformers.AlbertTokenizer(vocab=vocab, **kw)
    if kind == "deberta-v2":  # DeBERTa-v3 layout: [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3 ... [MASK] last; cased
        vocab = [("[PAD]", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[UNK]", 0.0)] + pieces.get("unigram") + [("[MASK]", 0.0)]
        return transformers.DebertaV2Tokenizer(vocab=vocab, **kw)
    if kind == "mpnet":
        return transformers.MPNetTokenizer(vocab=pieces.get("wordpiece"), unk_token="<unk>", **kw)
    if kind == "modernbert":
        return PreTrainedTokenizerFast(tokenizer_object=pieces.get("modernbert"), unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                                       pad_token="[PAD]", mask_token="[MASK]", model_input_names=["input_ids", "attention_mask"],
                                       clean_up_tokenization_spaces=True, **kw)
    raise ValueError(kind)


def pipeline_json(tok):
    spec = json.loads(tok.backend_tokenizer.to_str())
    return {k: spec[k] for k in ["normalizer", "pre_tokenizer", "post_processor", "decoder", "model", "added_tokens"]}


def make_tokenizer(kind, path, pieces, models_dir, retrain, probe):
    """Saves the family's tokenizer to `path` (unless one is there and `retrain` is off) and returns it as
    AutoTokenizer loads it back, after checking that the reload encodes exactly like the original."""
    os.makedirs(path, exist_ok=True)
    if os.path.exists(os.path.join(path, "tokenizer.json")) and not retrain:
        return AutoTokenizer.from_pretrained(path)
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]:
        if os.path.exists(os.path.join(path, f)):
            os.remove(os.path.join(path, f))
    if kind == "electra":
        src = os.path.join(models_dir, "tiny-wordpiece")
        for f in os.listdir(src):
            shutil.copy(os.path.join(src, f), path)
        return AutoTokenizer.from_pretrained(path)
    tok = build_tokenizer(kind, pieces, models_dir)
    tok.save_pretrained(path)
    if kind == "modernbert":  # transformers 5 writes its alias "TokenizersBackend"; the Hub checkpoints say PreTrainedTokenizerFast
        cfg_path = os.path.join(path, "tokenizer_config.json")
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
        with open(cfg_path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2, ensure_ascii=False)
            f.write("\n")
    back = AutoTokenizer.from_pretrained(path)
    check_reload(path, tok, back, probe)
    return back


def check_reload(path, tok, back, probe):
    """`back` (the tokenizer saved to `path`, reloaded by AutoTokenizer) is `tok`'s class and pipeline and
    encodes every probe text and pair as `tok` does."""
    assert type(back) is type(tok), (type(back), type(tok))
    assert pipeline_json(back) == pipeline_json(tok), f"{path}: tokenizer.json does not reload to the same pipeline"
    for a, b in [(t, None) for t in probe[0]] + [tuple(p) for p in probe[1]]:
        assert back(a, b, truncation=True) == tok(a, b, truncation=True), (path, a, b)


# ---------------------------------------------------------------------------------------------- models

def config_for(model_type, kwargs, tok):
    ids = dict(pad_token_id=tok.pad_token_id, bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id)
    if model_type in ("modernbert", "longformer"):
        ids.update(cls_token_id=tok.cls_token_id, sep_token_id=tok.sep_token_id)
    return AutoConfig.for_model(model_type, vocab_size=len(tok), **COMMON, **ids, **kwargs)


def save_tiny(model_type, kwargs, tok, path, seed):
    return save_model(config_for(model_type, kwargs, tok), path, seed)


def save_model(config, path, seed):
    """A random model of `config`, seeded, saved to `path` and checked to reload identically."""
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config, attn_implementation=ATTN)
    # Larger-than-default weights so that the scores are far from uniform and errors show.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    for f in ["config.json", "model.safetensors"]:
        if os.path.exists(os.path.join(path, f)):
            os.remove(os.path.join(path, f))
    model.save_pretrained(path)
    saved = load_file(os.path.join(path, "model.safetensors"))
    names = dict(model.named_parameters())
    assert set(saved) == set(names), (path, set(saved) ^ set(names))
    loaded = AutoModelForSequenceClassification.from_pretrained(path, attn_implementation=ATTN).eval()
    for n, p in loaded.named_parameters():
        assert torch.equal(p, names[n]), (path, n)
    return loaded


def batched_logits(model, tok, a, b=None, side=None, size=8):
    """Logits of texts `a` (and second segments `b`) in padded batches of `size`, padded on `side` (default:
    the tokenizer's own side)."""
    out = []
    kw = {} if side is None else {"padding_side": side}
    with torch.no_grad():
        for s in range(0, len(a), size):
            enc = tok(a[s:s + size], b[s:s + size] if b else None, padding=True, truncation=True, return_tensors="pt", **kw)
            out += model(**enc).logits.tolist()
    return out


def golden(model, tok, texts, pairs):
    clf = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
    return {
        "texts": texts,
        "pairs": pairs,
        "input_ids": tok(texts, truncation=True)["input_ids"],
        "logits": batched_logits(model, tok, texts),
        "pair_logits": batched_logits(model, tok, [p[0] for p in pairs], [p[1] for p in pairs]),
        "scores": clf(texts, top_k=None, truncation=True),
        "hidden_texts": HIDDEN_TEXTS,
    }


def save(tensors, out):
    save_file(tensors, out)
    os.chmod(out, 0o644)


def hidden_states(model, tok, texts, out):
    tensors = {}
    with torch.no_grad():
        for i, text in enumerate(texts[:HIDDEN_TEXTS]):
            enc = tok(text, truncation=True, return_tensors="pt")
            h = model.base_model(**enc).last_hidden_state[0]
            assert h.shape == (enc["input_ids"].shape[1], 32), h.shape
            tensors[f"hidden.{i}"] = h.contiguous()
            tensors[f"input_ids.{i}"] = enc["input_ids"][0].contiguous()
            if model.config.model_type == "longformer":
                g = torch.zeros_like(enc["input_ids"])
                g[:, 0] = 1
                tensors[f"hidden_global.{i}"] = model.base_model(**enc, global_attention_mask=g).last_hidden_state[0].contiguous()
    save(tensors, out)


# ---------------------------------------------------------------------------------------------- training

def load_for_training(path, model_type, problem):
    kw = dict(DROPOUT[model_type])
    if problem == "regression":
        kw.update(num_labels=1, id2label={0: "LABEL_0"}, label2id={"LABEL_0": 0}, ignore_mismatched_sizes=True)
    kw["problem_type"] = problem
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(path, attn_implementation=ATTN, **kw).float()


def check_no_dropout(model, enc):
    """In train mode, two forward passes and the eval-mode pass must agree exactly."""
    with torch.no_grad():
        model.train()
        a, b = model(**enc).logits, model(**enc).logits
        model.eval()
        c = model(**enc).logits
        model.train()
    assert torch.equal(a, b) and torch.allclose(a, c, atol=0, rtol=0), "dropout is still on"


def train_family(name, model_type, path, prefix, out):
    tok = AutoTokenizer.from_pretrained(path)
    enc = tok(TEXTS, padding=True, return_tensors="pt")
    for problem in PROBLEMS:
        model = load_for_training(path, model_type, problem)
        check_no_dropout(model, enc)
        model.train()
        loss = model(**enc, labels=labels_for(problem)).loss
        loss.backward()
        tensors = {"loss": loss.detach().reshape(1)}
        if problem == "regression":  # the 1-label head is new: store the whole head so Verdict starts from the same weights
            for n, p in model.named_parameters():
                if not n.startswith(prefix):
                    tensors["param." + n] = p.detach().contiguous()
        for n, p in model.named_parameters():
            if p.grad is not None:
                tensors["grad." + n] = p.grad.detach().contiguous()
        save(tensors, os.path.join(out, f"{name}.{problem}.grads.safetensors"))
    model = load_for_training(path, model_type, "single_label_classification")
    model.train()
    decay_names = set(Trainer.get_decay_parameter_names(None, model))
    decay = [p for n, p in model.named_parameters() if n in decay_names]
    no_decay = [p for n, p in model.named_parameters() if n not in decay_names]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
    sched = get_linear_schedule_with_warmup(opt, 5, 20)
    halves = [slice(0, 3), slice(3, 6)]
    for step in range(20):
        sl = halves[step % 2]
        batch = tok(TEXTS[sl], padding=True, return_tensors="pt")
        loss = model(**batch, labels=torch.tensor(SINGLE[sl])).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
    save({n: p.detach().contiguous() for n, p in model.named_parameters()}, os.path.join(out, f"{name}.adamw20.safetensors"))
    return sorted(n for n, _ in model.named_parameters() if n not in decay_names)


# ---------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--models", default="Fixtures/models", help="where make_model_fixtures.py put tiny-wordpiece")
    ap.add_argument("--out", default="Fixtures/families")
    ap.add_argument("--retrain-tokenizers", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated names (the golden/meta files keep the other entries)")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "training"), exist_ok=True)

    sst = read_tsv(os.path.join(args.shared, "data/sst2/dev.tsv"))
    texts = sst[:100] + ["I really love this book", "", "a " * 200, "Ünïcödé 北京 🤗 text"]
    pairs = [[sst[i], sst[i + 1]] for i in range(100, 124, 2)]
    pieces = Pieces(args.shared)
    only = set(filter(None, args.only.split(",")))

    golden_path = os.path.join(args.out, "families.golden.json")
    meta_path = os.path.join(args.out, "families.meta.json")
    goldens = json.load(open(golden_path, encoding="utf-8")) if only and os.path.exists(golden_path) else {}
    metas = json.load(open(meta_path, encoding="utf-8")) if only and os.path.exists(meta_path) else {}
    for seed, (name, model_type, tok_kind, kwargs) in enumerate(FAMILIES):
        if only and name not in only:
            continue
        print(name, flush=True)
        path = os.path.join(args.out, name)
        tok = make_tokenizer(tok_kind, path, pieces, args.models, args.retrain_tokenizers, (texts, pairs))
        model = save_tiny(model_type, kwargs, tok, path, seed)
        goldens[name] = golden(model, tok, texts, pairs)
        hidden_states(model, tok, texts, os.path.join(args.out, f"{name}.hidden.safetensors"))
        prefix = model.base_model_prefix + "."
        no_decay = train_family(name, model_type, path, prefix, os.path.join(args.out, "training"))
        metas[name] = {
            "model_type": model_type,
            "tokenizer_class": json.load(open(os.path.join(path, "tokenizer_config.json"), encoding="utf-8"))["tokenizer_class"],
            "base_model_prefix": prefix,
            "head": [n for n, _ in model.named_parameters() if not n.startswith(prefix)],
            "no_decay": no_decay,
            "dropout_off": DROPOUT[model_type],
            "attn_implementation": ATTN,
            "vocab_size": model.config.vocab_size,
            "model_max_length": tok.model_max_length,
            "seed": seed,
        }
        if name in NOTES or model_type in NOTES:
            metas[name]["notes"] = NOTES.get(name, NOTES.get(model_type))
    with open(golden_path, "w", encoding="utf-8") as f:
        json.dump(goldens, f, ensure_ascii=False)
    with open(meta_path, "w", encoding="utf-8") as f:
        json.dump(metas, f, ensure_ascii=False, indent=1)
    mpnet_buckets(args.out)


def mpnet_buckets(out):
    """mpnet-buckets.json: MPNet's relative-position bucket of every distance a 600-token input has
    (float32 arithmetic in transformers, so exact powers of two are worth checking)."""
    from transformers.models.mpnet.modeling_mpnet import MPNetEncoder
    distances = list(range(-600, 601))
    buckets = MPNetEncoder.relative_position_bucket(torch.tensor(distances)).tolist()
    with open(os.path.join(out, "mpnet-buckets.json"), "w", encoding="utf-8") as f:
        json.dump({"distances": distances, "buckets": buckets}, f)


if __name__ == "__main__":
    main()
