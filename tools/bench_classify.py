#!/usr/bin/env python3
"""The PyTorch side of `verdict bench-classify`: transformers' text-classification pipeline,
batch 32, truncation to the model maximum, 2 threads, best of N runs, plus single-sentence latency.

Usage: python tools/bench_classify.py MODEL_DIR FILE.tsv [--limit N] [--repeats 3]
"""
import argparse, csv, sys, time
import torch
from transformers import pipeline

csv.field_size_limit(sys.maxsize)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("--column", default="sentence")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.input, newline="", encoding="utf-8") as f:
        texts = [r[args.column] for r in csv.DictReader(f, delimiter="\t")]
    texts = texts[: args.limit] if args.limit else texts
    # fp32 compute, as Verdict does: fp16 weights would otherwise run in fp16, which is slow on CPUs.
    clf = pipeline("text-classification", model=args.model, device="cpu", dtype=torch.float32)
    clf(texts[:8], batch_size=32, truncation=True)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(args.repeats):
            t = time.perf_counter()
            clf(texts, batch_size=32, truncation=True)
            best = min(best, time.perf_counter() - t)
        latency = float("inf")
        for _ in range(20):
            t = time.perf_counter()
            clf(["I really love this book"])
            latency = min(latency, time.perf_counter() - t)
    print(f"pytorch: {len(texts)} texts in {best:.3f} s: {len(texts) / best:.1f} texts/s; one sentence {latency * 1000:.2f} ms; threads {args.threads}")


if __name__ == "__main__":
    main()
