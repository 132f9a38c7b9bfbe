#!/usr/bin/env python3
"""Reference side of the tokenizer benchmark: Rust `tokenizers` encode_batch on the same files and
thread count as `verdict bench-tokenizer`. Prints one JSON line per file.

Usage: RAYON_NUM_THREADS=2 python tools/bench_tokenizers.py MODEL_DIR FILE.tsv [FILE.tsv ...]
"""
import csv, json, sys, time
from tokenizers import Tokenizer

csv.field_size_limit(sys.maxsize)
model = sys.argv[1]
t0 = time.perf_counter()
tok = Tokenizer.from_file(f"{model}/tokenizer.json")
load_ms = (time.perf_counter() - t0) * 1e3
tok.no_padding()
tok.enable_truncation(512)
for path in sys.argv[2:]:
    with open(path, newline="", encoding="utf-8") as f:
        texts = [r["sentence"] for r in csv.DictReader(f, delimiter="\t")]
    best = float("inf")
    for _ in range(5):
        s = time.perf_counter()
        encs = tok.encode_batch(texts)
        best = min(best, time.perf_counter() - s)
    n = sum(len(e.ids) for e in encs)
    print(json.dumps(dict(file=path, texts=len(texts), tokens=n, load_ms=load_ms, seconds=best,
                          texts_per_s=len(texts) / best, tokens_per_s=n / best)))
