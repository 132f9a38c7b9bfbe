#!/usr/bin/env python3
"""Reference hidden states of real pretrained checkpoints of further families, from PyTorch `transformers`.

Usage: python tools/make_real_weight_fixtures.py --mpnet "$(tools/fetch_family_weights.sh mpnet)" [--shared ../shared] [--out Fixtures/models]

For each model given (today: sentence-transformers/all-mpnet-base-v2, an `MPNetModel`), on 210 texts of
../shared/data (150 SST-2 dev sentences, 60 Amazon reviews truncated to 512 tokens) run in padded batches of 16:
  <name>.golden.safetensors   per text `rows.<i>`: sampled rows of last_hidden_state (row indices in the JSON),
                              `pooler.<i>`: the pooler output, for models that have one (MiniLM),
                              `embedding.<i>`: the attention-masked mean of last_hidden_state, L2-normalised
                              (what sentence-transformers computes for these models)
  <name>.golden.json          texts, token counts and sampled row indices
tools/make_model_fixtures.py writes minilm.golden.* with the same function, so one Swift test reads them all.
"""
import argparse, csv, json, os, sys

import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer

csv.field_size_limit(sys.maxsize)
torch.set_num_threads(2)


def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [r["sentence"] for r in csv.DictReader(f, delimiter="\t")]


def texts_of(shared):
    texts = read_tsv(os.path.join(shared, "data/sst2/dev.tsv"))[:150]
    for domain in ["books", "dvd", "electronics", "kitchen"]:
        texts += read_tsv(os.path.join(shared, f"data/amazon-reviews/{domain}/dev.tsv"))[:15]
    return texts


def golden(name, folder, texts, out):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).float().eval()
    tensors, meta = {}, {"texts": texts, "lengths": [], "rows": []}
    with torch.no_grad():
        for start in range(0, len(texts), 16):
            batch = texts[start:start + 16]
            enc = tok(batch, padding=True, truncation=True, max_length=512, return_tensors="pt")
            outputs = model(**enc)
            hidden = outputs.last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), p=2, dim=1)
            for j in range(len(batch)):
                i = start + j
                n = int(enc["attention_mask"][j].sum())
                rows = sorted(set([0, n - 1] + [round(k * (n - 1) / 5) for k in range(1, 5)]))
                meta["lengths"].append(n)
                meta["rows"].append(rows)
                tensors[f"rows.{i}"] = hidden[j, rows].contiguous()
                if getattr(outputs, "pooler_output", None) is not None:
                    tensors[f"pooler.{i}"] = outputs.pooler_output[j].contiguous()
                tensors[f"embedding.{i}"] = emb[j].contiguous()
    save_file(tensors, os.path.join(out, f"{name}.golden.safetensors"))
    with open(os.path.join(out, f"{name}.golden.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mpnet", required=True, help="all-mpnet-base-v2 folder (tools/fetch_family_weights.sh mpnet)")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="Fixtures/models")
    args = ap.parse_args()
    texts = texts_of(args.shared)
    golden("mpnet", args.mpnet, texts, args.out)


if __name__ == "__main__":
    main()
