#!/usr/bin/env python3
"""The PyTorch side of `verdict bench-classify`: transformers' text-classification pipeline,
batch 32, truncation to the model maximum, 2 threads, best of N runs, plus single-sentence latency, and
top-1 accuracy (appended to the line) when the file has a label column (class ids or label names).

Usage: python tools/bench_classify.py MODEL_DIR FILE.tsv [--limit N] [--repeats 3] [--label-column label]
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
    ap.add_argument("--label-column", default="label")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.input, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    rows = rows[: args.limit] if args.limit else rows
    texts = [r[args.column] for r in rows]
    labels = [r[args.label_column].strip() for r in rows] if rows and args.label_column in rows[0] else None
    # fp32 compute, as Verdict does: fp16 weights would otherwise run in fp16, which is slow on CPUs.
    clf = pipeline("text-classification", model=args.model, device="cpu", dtype=torch.float32)
    clf(texts[:8], batch_size=32, truncation=True)
    best, predictions = float("inf"), None
    with torch.inference_mode():
        for _ in range(args.repeats):
            t = time.perf_counter()
            predictions = clf(texts, batch_size=32, truncation=True)
            best = min(best, time.perf_counter() - t)
        latency = float("inf")
        for _ in range(20):
            t = time.perf_counter()
            clf(["I really love this book"])
            latency = min(latency, time.perf_counter() - t)
    accuracy = ""
    if labels is not None and predictions is not None:
        id2label = clf.model.config.id2label
        names = [id2label[int(y)] if y.lstrip("-").isdigit() else y for y in labels]
        accuracy = f"; accuracy {sum(p['label'] == y for p, y in zip(predictions, names)) / len(names):.4f}"
    print(f"pytorch: {len(texts)} texts in {best:.3f} s: {len(texts) / best:.1f} texts/s; one sentence {latency * 1000:.2f} ms; threads {args.threads}{accuracy}")


if __name__ == "__main__":
    main()
