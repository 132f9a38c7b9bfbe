#!/usr/bin/env python3
"""Reference scores for the int8 and bfloat16 tests: the bundled default model (Sources/VerdictDefaultModel/default-sentiment)
through `transformers`' text-classification pipeline in fp32 on the first 100 SST-2 dev sentences.

Verdict's int8 path (dynamic quantisation) is checked against these fp32 scores with the
tolerance measured in docs/Performance.md; its fp32 path must match them within 1e-5.
For `--dtype bfloat16`, the same pipeline runs again with every nn.Linear weight rounded to bfloat16
(`weight.to(torch.bfloat16).to(torch.float32)`), computing in fp32: Verdict's bfloat16 path must match that within 1e-5.

Usage: python tools/make_int8_fixtures.py [SST2_DEV_TSV]   (default ../shared/data/sst2/dev.tsv)
Writes Fixtures/models/default-sentiment-sst2.golden.json and default-sentiment-sst2-bf16-weights.golden.json.
"""
import csv, json, os, sys

import torch
from transformers import pipeline

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "data", "sst2", "dev.tsv")
    with open(source, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:100]
    texts = [r["sentence"] for r in rows]
    labels = [int(r["label"]) for r in rows]
    torch.set_num_threads(2)
    clf = pipeline("text-classification", model=os.path.join(root, "Sources", "VerdictDefaultModel", "default-sentiment"), device="cpu", dtype=torch.float32)
    def write(name):
        scores = clf(texts, top_k=None, batch_size=32, truncation=True)
        out = {"texts": texts, "labels": labels,
               "scores": [sorted(([s["label"], s["score"]] for s in one), key=lambda p: p[0]) for one in scores]}
        path = os.path.join(root, "Fixtures", "models", name)
        with open(path, "w") as f:
            json.dump(out, f, indent=0)
        print("wrote", path)
    write("default-sentiment-sst2.golden.json")
    with torch.no_grad():
        for module in clf.model.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.copy_(module.weight.to(torch.bfloat16).to(torch.float32))
    write("default-sentiment-sst2-bf16-weights.golden.json")


if __name__ == "__main__":
    main()
