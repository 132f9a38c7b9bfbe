#!/usr/bin/env python3
"""Reference outputs for Verdict's model tests, produced by PyTorch `transformers`.

Usage: python tools/make_model_fixtures.py --minilm DIR --shared ../shared --out Fixtures/models

Writes under OUT/:
  tiny-wordpiece/            a 1,000-piece uncased WordPiece tokenizer trained on SST-2 (shared by the tiny models)
  <tiny model>/              random tiny BERT/DistilBERT classifiers (config.json, tokenizer files, weights in
                             the format named by the folder: model.safetensors or pytorch_model.bin, fp32 or fp16)
  tiny-classifiers.golden.json   per model: texts, pairs, logits, and pipeline scores (top_k=None) for the
                             default function and for softmax, sigmoid and none
  minilm.golden.safetensors  all-MiniLM-L6-v2 on 210 texts of ../shared/data (150 SST-2 dev sentences, 60 Amazon
                             reviews truncated to 512 tokens), run in padded batches of 16: per text, sampled rows of
                             last_hidden_state (`rows.<i>`; row indices in minilm.golden.json), pooler_output
                             (`pooler.<i>`) and the mean-pooled, L2-normalised embedding (`embedding.<i>`)
  minilm.golden.json         the texts, token counts and sampled row indices
"""
import argparse, csv, json, os, shutil, sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, decoders, trainers
from transformers import (AutoTokenizer, BertConfig, BertTokenizerFast, BertForSequenceClassification, DistilBertConfig,
                          DistilBertForSequenceClassification, PreTrainedTokenizerFast, pipeline)

csv.field_size_limit(sys.maxsize)
torch.set_num_threads(2)


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [r["sentence"] for r in csv.DictReader(f, delimiter="\t")]


def tiny_tokenizer(shared, out):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(read_tsv(os.path.join(shared, "data/sst2/train.tsv"))[:20000],
                            trainers.WordPieceTrainer(vocab_size=1000, special_tokens=specials))
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=64)
    path = os.path.join(out, "tiny-wordpiece")
    fast.save_pretrained(path)
    with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8") as f:
        for piece, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1]):
            f.write(piece + "\n")
    return path


LABELS3 = {0: "negative", 1: "neutral", 2: "positive"}


def tiny_models():
    """(name, family, config kwargs, weights format, dtype)."""
    bert = dict(vocab_size=1000, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                max_position_embeddings=64, type_vocab_size=2)
    distil = dict(vocab_size=1000, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64)
    three = dict(num_labels=3, id2label=LABELS3, label2id={v: k for k, v in LABELS3.items()})
    return [
        ("tiny-bert-safetensors-fp32", "bert", {**bert, **three}, "safetensors", torch.float32),
        ("tiny-bert-bin-fp32", "bert", {**bert, **three}, "bin", torch.float32),
        ("tiny-bert-safetensors-fp16", "bert", {**bert, **three}, "safetensors", torch.float16),
        ("tiny-bert-multilabel", "bert", {**bert, **three, "problem_type": "multi_label_classification"}, "safetensors", torch.float32),
        ("tiny-bert-regression", "bert", {**bert, "num_labels": 1}, "safetensors", torch.float32),
        ("tiny-bert-tanh-gelu", "bert", {**bert, "num_labels": 2, "hidden_act": "gelu_new"}, "safetensors", torch.float32),
        ("tiny-distilbert-safetensors-fp32", "distilbert", {**distil, **three}, "safetensors", torch.float32),
        ("tiny-distilbert-bin-fp16", "distilbert", {**distil, **three}, "bin", torch.float16),
        ("tiny-distilbert-bin-fp32", "distilbert", {**distil, "num_labels": 2}, "bin", torch.float32),
    ]


def save_tiny(name, family, kwargs, fmt, dtype, tok_dir, out, seed):
    torch.manual_seed(seed)
    if family == "bert":
        model = BertForSequenceClassification(BertConfig(**kwargs))
    else:
        model = DistilBertForSequenceClassification(DistilBertConfig(**kwargs))
    # Larger-than-default weights so that the scores are far from uniform and errors show.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    path = os.path.join(out, name)
    if os.path.exists(path):
        shutil.rmtree(path)
    model.to(dtype).save_pretrained(path)
    if fmt == "bin":
        os.remove(os.path.join(path, "model.safetensors"))
        torch.save(model.state_dict(), os.path.join(path, "pytorch_model.bin"))
    for f in os.listdir(tok_dir):
        shutil.copy(os.path.join(tok_dir, f), path)
    return model.float()


def tiny_golden(model, path, texts, pairs):
    tok = AutoTokenizer.from_pretrained(path)
    clf = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
    result = {"texts": texts, "pairs": pairs}
    with torch.no_grad():
        enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
        result["logits"] = model(**enc).logits.tolist()
        enc = tok([p[0] for p in pairs], [p[1] for p in pairs], padding=True, truncation=True, return_tensors="pt")
        result["pair_logits"] = model(**enc).logits.tolist()
    result["scores"] = {}
    for fn in ["default", "softmax", "sigmoid", "none"]:
        kw = {} if fn == "default" else {"function_to_apply": fn}
        result["scores"][fn] = clf(texts, top_k=None, truncation=True, **kw)
    result["top1"] = clf(texts, truncation=True)
    return result


def minilm_golden(minilm, shared, out):
    """The real-weights goldens of tools/make_real_weight_fixtures.py, with BERT's pooler output."""
    import make_real_weight_fixtures
    make_real_weight_fixtures.golden("minilm", minilm, make_real_weight_fixtures.texts_of(shared), out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", required=True)
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="Fixtures/models")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tok_dir = tiny_tokenizer(args.shared, args.out)
    sst = read_tsv(os.path.join(args.shared, "data/sst2/dev.tsv"))
    texts = sst[:24] + ["I really love this book", "", "a " * 200, "Ünïcödé 北京 🤗 text"]
    pairs = [[sst[i], sst[i + 1]] for i in range(30, 40)]
    golden = {}
    for seed, (name, family, kwargs, fmt, dtype) in enumerate(tiny_models()):
        model = save_tiny(name, family, kwargs, fmt, dtype, tok_dir, args.out, seed)
        golden[name] = tiny_golden(model, os.path.join(args.out, name), texts, pairs)
    with open(os.path.join(args.out, "tiny-classifiers.golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False)
    minilm_golden(args.minilm, args.shared, args.out)


if __name__ == "__main__":
    main()
