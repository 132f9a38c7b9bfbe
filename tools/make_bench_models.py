#!/usr/bin/env python3
"""Checkpoints for tools/bench_compare.sh that are not in the repository.

Usage: python tools/make_bench_models.py OUT_DIR

Writes OUT_DIR/distilbert-base: a randomly initialised (torch.manual_seed(0))
DistilBertForSequenceClassification in DistilBERT-base shape (dim 768, 6 layers, 12 heads, hidden_dim 3072,
vocab 30522, 512 positions, 2 labels NEGATIVE/POSITIVE) as model.safetensors + config.json, with the tokenizer
files of Sources/VerdictDefaultModel/default-sentiment (the same uncased BERT vocabulary of 30,522 tokens, so texts split into the
real number of tokens). Speed does not depend on the weights' values; accuracy of this model is chance level.
The MiniLM-L6 workload of the benchmark is Sources/VerdictDefaultModel/default-sentiment itself.
"""
import os, shutil, sys

import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TOKENIZER_SRC = os.path.join(ROOT, "Sources", "VerdictDefaultModel", "default-sentiment")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dest = os.path.join(sys.argv[1], "distilbert-base")
    torch.manual_seed(0)
    config = DistilBertConfig(
        vocab_size=30522, max_position_embeddings=512, dim=768, n_layers=6, n_heads=12, hidden_dim=3072,
        num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1},
        pad_token_id=0,
    )
    model = DistilBertForSequenceClassification(config).eval()
    shutil.rmtree(dest, ignore_errors=True)
    model.save_pretrained(dest, safe_serialization=True)
    for f in TOKENIZER_FILES:
        src = os.path.join(TOKENIZER_SRC, f)
        if os.path.exists(src):
            shutil.copy(src, dest)
    print(dest, sum(p.numel() for p in model.parameters()), "parameters")


if __name__ == "__main__":
    main()
