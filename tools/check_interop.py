#!/usr/bin/env python3
"""Checks that a model folder saved by Verdict loads in transformers and gives the logits Verdict gives.

Usage: python tools/check_interop.py MODEL_DIR VERDICT_BINARY [TSV]
Runs `verdict classify --model MODEL_DIR --top-k all --function none --json` on the first 200 texts of TSV
(default ../shared/data/sst2/dev.tsv) and compares with AutoModelForSequenceClassification logits.
"""
import csv, json, subprocess, sys
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model_dir, binary = sys.argv[1], sys.argv[2]
tsv = sys.argv[3] if len(sys.argv) > 3 else "../shared/data/sst2/dev.tsv"
with open(tsv, newline="", encoding="utf-8") as f:
    texts = [r["sentence"] for r in csv.DictReader(f, delimiter="\t")][:200]
model = AutoModelForSequenceClassification.from_pretrained(model_dir).float().eval()
tok = AutoTokenizer.from_pretrained(model_dir)
with torch.no_grad():
    logits = model(**tok(texts, padding=True, truncation=True, return_tensors="pt")).logits
out = subprocess.run([binary, "classify", "--model", model_dir, "--top-k", "all", "--function", "none", "--json"],
                     input="\n".join(texts), capture_output=True, text=True, check=True).stdout.splitlines()
worst = 0.0
for i, line in enumerate(out):
    scores = {d["label"]: d["score"] for d in json.loads(line)["labels"]}
    for j, label in model.config.id2label.items():
        worst = max(worst, abs(scores[label] - logits[i, int(j)].item()))
print(f"transformers {model.__class__.__name__} loaded {model_dir}; {len(out)} texts; max |logit difference| {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
