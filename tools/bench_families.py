#!/usr/bin/env python3
"""Base-size checkpoints of every encoder family for the speed column of docs/Models.md.

Usage: python tools/bench_families.py OUT_DIR [NAMES...]

Writes OUT_DIR/<family>/: a randomly initialised `XxxForSequenceClassification` (2 labels) in the family's
base shape (BERT-base: hidden 768, 12 layers, 12 heads, intermediate 3072; ModernBERT-base: 22 layers,
intermediate 1152, local attention 128, global every 3rd layer; ALBERT-base: embeddings 128 wide, one shared
layer; ELECTRA-base; Longformer-base: window 512, 4,096 tokens), with the tokenizer of its tiny fixture in Fixtures/families (a small vocabulary: texts
split into more tokens than with the real vocabularies, the same number on both sides). Speed does not depend on
the weights' values; `tools/bench_families.sh` times Verdict and PyTorch on them in the same run.
"""
import json, os, shutil, sys

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification

BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
FAMILIES = {
    "roberta": ("tiny-roberta", dict(BASE, max_position_embeddings=514)),
    "xlm-roberta": ("tiny-xlm-roberta", dict(BASE, max_position_embeddings=514)),
    "electra": ("tiny-electra", dict(BASE, embedding_size=768, max_position_embeddings=512)),
    "albert": ("tiny-albert", dict(BASE, embedding_size=128, max_position_embeddings=512)),
    "mpnet": ("tiny-mpnet", dict(BASE, max_position_embeddings=514)),
    "modernbert": ("tiny-modernbert", dict(hidden_size=768, num_hidden_layers=22, num_attention_heads=12, intermediate_size=1152,
                                            max_position_embeddings=8192, local_attention=128, global_attn_every_n_layers=3)),
    "deberta-v2": ("tiny-deberta-v2", dict(BASE, max_position_embeddings=512, position_buckets=256, pooler_hidden_size=768)),
    "longformer": ("tiny-longformer", dict(BASE, max_position_embeddings=4098, attention_window=[512] * 12)),
}


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or list(FAMILIES)
    root = os.path.join(os.path.dirname(__file__), "..", "Fixtures", "families")
    torch.manual_seed(0)
    for name in names:
        tiny, shape = FAMILIES[name]
        src = os.path.join(root, tiny)
        config = AutoConfig.from_pretrained(src)
        for k, v in shape.items():
            setattr(config, k, v)
        if getattr(config, "layer_types", None) is not None:  # ModernBERT: one entry per layer
            every = shape.get("global_attn_every_n_layers", 3)
            config.layer_types = ["sliding_attention" if i % every else "full_attention" for i in range(config.num_hidden_layers)]
        config.num_labels = 2
        config.id2label, config.label2id = {0: "NEGATIVE", 1: "POSITIVE"}, {"NEGATIVE": 0, "POSITIVE": 1}
        model = AutoModelForSequenceClassification.from_config(config)
        dest = os.path.join(out, name)
        shutil.rmtree(dest, ignore_errors=True)
        model.save_pretrained(dest)
        for f in os.listdir(src):
            if f.startswith("tokenizer") or f in ("vocab.txt", "special_tokens_map.json"):
                shutil.copy(os.path.join(src, f), dest)
        tc = os.path.join(dest, "tokenizer_config.json")
        cfg = json.load(open(tc))
        cfg["model_max_length"] = 4096 if name == "longformer" else 512
        json.dump(cfg, open(tc, "w"), indent=1)
        print(dest, sum(p.numel() for p in model.parameters()), "parameters")


if __name__ == "__main__":
    main()
